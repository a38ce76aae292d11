"""A generated dirty/clean pair with known injected errors, and scoring of a cleaning run
against it cell by cell. Used by the tests and `make bench`."""

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, timedelta

COUNTRIES = {"USA": 30, "Germany": 15, "France": 12, "Canada": 10, "Spain": 8, "Italy": 8, "Brazil": 7, "Japan": 10}
CITIES = ["Springfield", "Riverside", "Franklin", "Greenville", "Bristol", "Clinton", "Fairview", "Salem",
          "Madison", "Georgetown", "Arlington", "Ashland", "Burlington", "Manchester", "Oxford", "Milton"]
STATUSES = {"active": 50, "pending": 20, "cancelled": 15, "suspended": 15}
FIRST = ["Ada", "Ben", "Cleo", "Dario", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam", "Mona"]
LAST = ["Novak", "Okafor", "Perez", "Quinn", "Rossi", "Schmidt", "Tanaka", "Urban", "Varga", "Weber", "Young"]
COMMENTS = ["great service", "slow delivery", "would buy again", "item arrived damaged", "ok", "excellent value"]
COLUMNS = ["id", "name", "email", "country", "city", "signup", "price", "weight", "active", "status", "comment"]
MISSING = ["N/A", "null", "-", "?", "NULL", "none"]


@dataclass
class Pair:
    clean: list[dict[str, str]]
    dirty_csv: bytes
    truth: dict[tuple[int, str], str]
    """(dirty data row, column) -> the clean value ('' for missing) of every injected error."""
    duplicate_rows: set[int]


def generate(rows: int = 2000, seed: int = 7, error_rate: float = 0.08, duplicate_rate: float = 0.03) -> Pair:
    rng = random.Random(seed)
    clean = [_row(rng, index + 1) for index in range(rows)]
    dirty: list[dict[str, str]] = []
    truth: dict[tuple[int, str], str] = {}
    duplicates: set[int] = set()
    for record in clean:
        row = dict(record)
        number = len(dirty) + 1
        for column in COLUMNS[1:]:
            if rng.random() < error_rate:
                broken = _break(rng, column, row[column])
                if broken is not None and broken != row[column]:
                    truth[(number, column)] = "" if broken in MISSING else row[column]
                    row[column] = broken
        dirty.append(row)
        if rng.random() < duplicate_rate:
            copy = dict(record)
            if rng.random() < 0.5:
                copy["name"] = f" {copy['name']}"  # a normalised duplicate
            dirty.append(copy)
            duplicates.add(len(dirty))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(dirty)
    return Pair(clean, buffer.getvalue().encode(), truth, duplicates)


def _row(rng: random.Random, index: int) -> dict[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    signup = date(2020, 1, 1) + timedelta(days=rng.randrange(1500))
    return {
        "id": str(index),
        "name": f"{first} {last}",
        "email": f"{first.lower()}.{last.lower()}{index}@example.com",
        "country": rng.choices(list(COUNTRIES), weights=list(COUNTRIES.values()))[0],
        "city": rng.choice(CITIES),
        "signup": signup.isoformat(),
        "price": f"{rng.uniform(5, 5000):.2f}",
        "weight": f"{rng.uniform(0.5, 90):.1f}",
        "active": rng.choice(["true", "false"]),
        "status": rng.choices(list(STATUSES), weights=list(STATUSES.values()))[0],
        "comment": rng.choice(COMMENTS),
    }


def _typo(rng: random.Random, word: str) -> str:
    position = rng.randrange(1, len(word) - 1)
    return word[:position] + rng.choice("xqzk") + word[position + 1:]


def _break(rng: random.Random, column: str, value: str) -> str | None:
    kind = rng.random()
    if kind < 0.2:
        return rng.choice(MISSING)
    if kind < 0.35:
        return rng.choice([f" {value}", f"{value} ", f"  {value}  "])
    match column:
        case "country":
            variants = {"USA": ["usa", "U.S.A.", "Usa"], "Germany": ["germany", "GERMANY"]}.get(value, [value.lower(), value.upper()])
            return rng.choice([*variants, _typo(rng, value)])
        case "city" | "status":
            return _typo(rng, value) if rng.random() < 0.6 else value.upper()
        case "email":
            return value.upper()
        case "signup":
            day = date.fromisoformat(value)
            return rng.choice([day.strftime("%m/%d/%Y"), day.strftime("%d %b %Y"), day.strftime("%B %d, %Y"),
                               day.strftime("%Y/%m/%d")])
        case "price":
            number = float(value)
            return rng.choice([f"${number:,.2f}", f"{number:,.2f}", f"{value} USD" if number < 1000 else f"${value}"])
        case "weight":
            return rng.choice([f"{value} kg", f"{value}kg"])
        case "active":
            return rng.choice({"true": ["True", "yes", "TRUE", "Y"], "false": ["False", "no", "FALSE", "N"]}[value])
    return None


def score(change_log: bytes, pair: Pair) -> dict[str, float]:
    """Precision and recall of the repairs (cells and duplicate rows) against the injected errors."""
    predicted: dict[tuple[int, str], str] = {}
    removed: set[int] = set()
    for entry in csv.DictReader(io.StringIO(change_log.decode())):
        if entry["rule"].startswith("duplicate"):
            removed.add(int(entry["row"]))
        elif entry["column"] != "*":
            predicted[(int(entry["row"]), entry["column"])] = entry["new"]
    # Repairs on a row that is then removed as a duplicate do not reach the output.
    predicted = {key: value for key, value in predicted.items() if key[0] not in removed}
    correct_cells = sum(1 for key, value in predicted.items() if pair.truth.get(key) == value)
    correct_rows = len(removed & pair.duplicate_rows)
    made = len(predicted) + len(removed)
    wanted = len(pair.truth) + len(pair.duplicate_rows)
    correct = correct_cells + correct_rows
    return {
        "precision": correct / made if made else 1.0,
        "recall": correct / wanted if wanted else 1.0,
        "repairs": made,
        "errors": wanted,
    }
