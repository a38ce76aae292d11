"""Repairs that look beyond one cell (dependencies, misplaced values, units, corrupted tokens)
and the bad input a user would try, through the whole in-memory pipeline."""

import csv
import io
import random

from collections import Counter

import pandas as pd
import pytest

from aiorch.contracts import CleaningSpec
from aiorch.csv.cleaner import clean_bytes
from aiorch.csv.repairs import _off_scale
from aiorch.csv.spec import parse_instruction

PLACES = [("02101", "Boston", "MA"), ("10001", "New York", "NY"), ("60601", "Chicago", "IL"), ("94103", "San Francisco", "CA"),
          ("73301", "Austin", "TX"), ("98101", "Seattle", "WA"), ("80202", "Denver", "CO"), ("33101", "Miami", "FL")]
FIRST = ["Ada", "Ben", "Cleo", "Dario", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam"]


def run(rows: list[list[str]], spec: CleaningSpec | None = None):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    result = clean_bytes(buffer.getvalue().encode(), "t.csv", spec or CleaningSpec())
    cleaned = list(csv.reader(io.StringIO(result.cleaned_csv.decode())))
    log = list(csv.DictReader(io.StringIO(result.change_log_csv.decode())))
    return cleaned, log, result


def customers(count: int = 64, seed: int = 3) -> list[list[str]]:
    rng = random.Random(seed)
    rows = [["id", "name", "zip", "city", "state", "spent"]]
    for n in range(count):
        zip_code, city, state = PLACES[n % len(PLACES)]
        rows.append([str(n + 1), rng.choice(FIRST), zip_code, city, state, f"{rng.uniform(5, 500):.2f}"])
    return rows


def test_a_value_that_breaks_a_dependency_is_repaired_from_its_group_with_evidence():
    rows = customers()
    assert rows[15][2:4] == ["80202", "Denver"] and rows[16][2:5] == ["33101", "Miami", "FL"]
    rows[15][3] = "Chicago"   # zip 80202 says Denver on its 7 other rows
    rows[16][4] = "GA"        # zip 33101 says FL
    cleaned, log, result = run(rows)
    assert cleaned[15][3] == "Denver" and cleaned[16][4] == "FL"
    repairs = [entry for entry in log if entry["rule"] == "dependency"]
    assert {(entry["row"], entry["column"], entry["new"]) for entry in repairs} == {("15", "city", "Denver"), ("16", "state", "FL")}
    assert "80202" in repairs[0]["evidence"] and "other rows say 'Denver'" in repairs[0]["evidence"]
    assert "dependencies found" in result.report and result.output.changes_per_rule["dependency"] == 2


def test_files_where_no_dependency_holds_get_no_dependency_repairs_and_the_report_says_so():
    rng = random.Random(5)
    rows = [["id", "colour", "size", "shape"]] + [
        [str(n), rng.choice(["red", "green", "blue"]), rng.choice(["S", "M", "L", "XL"]), rng.choice(["round", "square"])]
        for n in range(200)]
    _, log, result = run(rows)
    assert not [entry for entry in log if entry["rule"] == "dependency"]
    assert "no dependency between columns was found" in result.report


def test_keys_free_text_and_one_value_columns_are_never_dependency_targets():
    rows = customers()
    rows[0] += ["country", "note"]
    for n, row in enumerate(rows[1:], 1):
        row += ["US", f"Customer since spring, prefers email contact and pays by card, account {n}"]
    rows[10][0] = "999"                                       # a key breaks nothing
    rows[11][7] = "Customer since winter, asked to be called"  # prose is not a category
    cleaned, log, _ = run(rows)
    assert not [entry for entry in log if entry["column"] in ("id", "note", "country")]
    assert cleaned[10][0] == "999" and cleaned[11][7].startswith("Customer since winter")


def test_a_typo_fold_is_vetoed_when_the_rows_other_columns_contradict_it():
    rows = [["id", "state", "measure"]]
    for n in range(40):
        state = ["AL", "GA", "TN", "MS"][n % 4]
        rows.append([str(n), state, "al_hf-1" if n % 5 else "al_hf-2"])
    rows += [["41", "AK", "ak_hf-1"], ["42", "AK", "ak_hf-1"], ["43", "AK", "ak_ami-1"]]
    cleaned, log, _ = run(rows)
    assert [row[2] for row in cleaned[-3:]] == ["ak_hf-1", "ak_hf-1", "ak_ami-1"]
    assert not [entry for entry in log if entry["rule"] == "typo"]
    # Without a contradicting row the same rare spelling is a typo and folds.
    rows[-3][1], rows[-2][1] = "AL", "GA"
    cleaned, log, _ = run(rows)
    assert cleaned[-3][2] == "al_hf-1" and {entry["rule"] for entry in log} == {"typo"}


def test_a_state_appended_to_the_city_is_split_back():
    rows = customers()
    assert rows[4][3:5] == ["San Francisco", "CA"]
    rows[4][3], rows[4][4] = "San Francisco CA", ""
    cleaned, log, _ = run(rows)
    assert cleaned[4][3:5] == ["San Francisco", "CA"]
    assert {(entry["column"], entry["rule"]) for entry in log if entry["row"] == "4"} == {("city", "misplaced"), ("state", "misplaced")}


def test_unit_spellings_take_the_columns_dominant_form_and_a_consistent_column_keeps_its_unit():
    cleaned, log, result = run([["id", "size"], ["1", "12 oz"], ["2", "16 oz"], ["3", "12.0 ounce"], ["4", "8 ounces"],
                                ["5", "24 oz."], ["6", "6 oz"]])
    assert [row[1] for row in cleaned[1:]] == ["12 oz", "16 oz", "12.0 oz", "8 oz", "24 oz", "6 oz"]
    assert {entry["rule"] for entry in log} == {"number_format"}
    cleaned, log, result = run([["id", "share"], ["1", "45%"], ["2", "12%"], ["3", "3%"], ["4", "100%"]])
    assert [row[1] for row in cleaned[1:]] == ["45%", "12%", "3%", "100%"] and log == []
    share = next(p for p in result.output.profile_before if p.name == "share")
    assert "kept" in share.issues[0]


def years(extra: list[str]) -> list[list[str]]:
    rng = random.Random(2)
    return [["id", "season"]] + [[str(n), str(rng.choice([2010, 2011, 2012]))] for n in range(100)] + \
        [[str(100 + n), value] for n, value in enumerate(extra)]


def test_corrupted_tokens_are_repaired_only_from_a_unique_close_value():
    cleaned, log, result = run(years(["g2011", "2011***", "2O12", "201", "20x"]))
    assert [row[1] for row in cleaned[-5:]] == ["2011", "2011", "2012", "201", "20x"]
    assert {(entry["old"], entry["rule"]) for entry in log} == {("g2011", "token"), ("2011***", "token"), ("2O12", "token")}
    flagged = {(f.column, f.value) for f in result.output.validation if "looks corrupted" in f.check}
    assert flagged == {("season", "201"), ("season", "20x")}


def test_every_validation_failure_is_numbered_as_a_row_of_the_cleaned_file():
    rows = years(["201"])
    rows[0].append("price")
    for row in rows[1:]:
        row.append("3.50")
    rows[-1][2] = "-4"  # the corrupted-looking season and a negative price on one row
    rows[3:3] = [rows[1], rows[2]]  # two duplicates early on: every later row moves up two in the output
    cleaned, _, result = run(rows)
    failing = [f for f in result.output.validation if f.value in ("201", "-4")]
    assert {f.check.split(" (")[0] for f in failing} == {"looks corrupted", "not negative"}
    assert {f.row for f in failing} == {len(cleaned) - 1}  # the last row of the cleaned file (its header is row 0)
    assert cleaned[failing[0].row][1:] == ["201", "-4"]


def test_an_x_stands_for_an_unknown_digit_and_is_never_deleted():
    rows = [["id", "provider"]] + [[str(n), "10006"] for n in range(30)] + [["31", "1000x"]]
    cleaned, log, _ = run(rows)
    assert cleaned[-1][1] == "10006" and log[0]["rule"] == "token"
    rows = [["id", "provider"]] + [[str(n), ["10006", "10001"][n % 2]] for n in range(30)] + [["31", "1000x"]]
    cleaned, log, result = run(rows)
    assert cleaned[-1][1] == "1000x" and log == [] and result.output.validation_failures >= 1


def test_a_negative_price_and_impossible_dates_are_validation_failures():
    text = [["id", "item", "price", "sold"], ["1", "pen", "2.50", "2024-01-05"], ["2", "ink", "-5", "01/15/2024"],
            ["3", "pad", "4", "March 3, 2024"], ["4", "cap", "3.20", "2024-02-30"], ["5", "nib", "1", "not a date"],
            ["6", "box", "12", "2024/03/01"]]
    cleaned, _, result = run(text)
    sold = next(p for p in result.output.profile_before if p.name == "sold")
    assert sold.inferred_type == "date"
    assert [row[3] for row in cleaned[1:]] == ["2024-01-05", "2024-01-15", "2024-03-03", "2024-02-30", "not a date", "2024-03-01"]
    failing = {(f.row, f.column, f.value) for f in result.output.validation}
    assert failing == {(2, "price", "-5"), (4, "sold", "2024-02-30"), (5, "sold", "not a date")}


@pytest.mark.parametrize("family, rule", [("repair_dependencies", "dependency"), ("repair_tokens", "token"),
                                          ("split_misplaced", "misplaced")])
def test_each_repair_family_can_be_turned_off_in_the_spec(family, rule):
    rows = customers()
    rows[15][3] = "Chicago"
    rows[4][3], rows[4][4] = "San Francisco CA", ""
    rows[0].append("season")
    for n, row in enumerate(rows[1:]):
        row.append(["2010", "2011", "2012"][n % 3])
    rows[30][6] = "2011***"
    _, log, _ = run(rows)
    assert rule in {entry["rule"] for entry in log}
    spec = CleaningSpec.model_validate_json(f'{{"{family}": false}}')
    _, log, _ = run(rows, spec)
    assert rule not in {entry["rule"] for entry in log}


def test_an_instruction_can_turn_dependency_repairs_off():
    assert parse_instruction("clean it but do not use dependencies", ["a"]).repair_dependencies is False


def test_a_rare_name_is_not_folded_into_a_frequent_one_that_belongs_to_someone_else():
    rows = [["id", "player", "surname", "team"]]
    for n in range(30):
        rows.append([str(n), ["Gong_Y", "Ada_K", "Ben_L"][n % 3], ["Kubicar", "Lovelace", "Novak"][n % 3], f"T{n % 4}"])
    rows.append(["30", "Hong_M", "Kubicka", "T1"])  # one row of another player: Kubicar's rows are all Gong_Y
    cleaned, log, _ = run(rows)
    assert cleaned[-1][2] == "Kubicka" and not [entry for entry in log if entry["rule"] == "typo"]


def test_list_values_are_not_folded_by_their_punctuation():
    rows = [["id", "genre"]] + [[str(n), "Action & Adventure,Comedy"] for n in range(8)] + [["8", "Action,Adventure,Comedy"]]
    cleaned, log, _ = run(rows)
    assert cleaned[-1][1] == "Action,Adventure,Comedy" and log == []


def runs(seed: int = 5) -> list[list[str]]:
    """Measurement runs: each (angle, chord, speed) setting is a run of rows over frequencies,
    and the thickness is fixed by the three settings together (no one or two of them fix it)."""
    rng = random.Random(seed)
    rows = [["frequency", "angle", "chord", "speed", "thickness", "level"]]
    thickness = {}
    for angle in ("0", "4", "8"):
        for chord in ("0.1524", "0.3048"):
            for speed in ("39.6", "71.3"):
                thickness[(angle, chord, speed)] = f"0.00{rng.randint(100000, 999999)}"
    for (angle, chord, speed), value in thickness.items():
        for frequency in ("500", "800", "1000", "1250", "1600", "2000", "2500", "3150", "4000", "5000"):
            rows.append([frequency, angle, chord, speed, value, f"{rng.uniform(100, 140):.3f}"])
    return rows


def test_a_value_fixed_by_three_columns_together_is_repaired_when_it_looks_corrupted():
    rows = runs()
    truth = rows[25][4]
    rows[25][4] = truth[4:6] * 2 + truth[6:8] * 2  # digits that lost their point: orders of magnitude off
    cleaned, log, result = run(rows)
    assert cleaned[25][4] == truth
    change = next(entry for entry in log if entry["row"] == "25" and entry["column"] == "thickness")
    assert change["rule"] == "dependency" and "angle" in change["evidence"] and "speed" in change["evidence"]


def test_a_plausible_value_is_not_changed_by_a_three_column_dependency():
    rows = runs()
    other = rows[45][4]
    assert rows[25][4] != other
    rows[25][4] = other  # another run's thickness: a valid shape, so left alone
    cleaned, log, _ = run(rows)
    assert cleaned[25][4] == other
    assert not [entry for entry in log if entry["column"] == "thickness"]


def test_a_blank_cell_that_a_dependency_determines_is_filled_with_evidence():
    rows = customers()
    assert rows[15][2:4] == ["80202", "Denver"]
    rows[15][3] = ""
    cleaned, log, _ = run(rows)
    assert cleaned[15][3] == "Denver"
    change = next(entry for entry in log if entry["row"] == "15" and entry["column"] == "city")
    assert change["rule"] == "dependency" and change["evidence"].startswith("blank") and "80202" in change["evidence"]


def test_blanks_are_not_filled_from_a_dependency_where_the_column_often_lacks_a_value():
    rows = customers()
    for n in range(1, len(rows), 7):
        rows[n][3] = ""  # one row in seven, over every zip: blank is a state the column has, not a gap
    cleaned, log, _ = run(rows)
    assert all(cleaned[n][3] == "" for n in range(1, len(rows), 7))
    assert not [entry for entry in log if entry["column"] == "city" and entry["rule"] == "dependency"]


def test_a_token_with_every_character_doubled_is_undone_to_a_known_value():
    rng = random.Random(2)
    rows = [["run", "speed"]] + [[str(n), rng.choice(["31.7", "39.6", "55.5", "71.3"])] for n in range(60)]
    rows[10][1] = "7711..33"
    cleaned, log, _ = run(rows)
    assert cleaned[10][1] == "71.3"
    assert next(entry for entry in log if entry["row"] == "10")["rule"] == "token"


def test_a_number_orders_of_magnitude_off_its_columns_usual_range_is_suspect():
    values = pd.Series(["0.0031", "0.0042", "0.0028", "0.0051", "331138", "0.0009", "12"], dtype="string")
    counts = Counter({value: 20 for value in values[:4]}) + Counter({"0.0009": 20}) + Counter({"331138": 1, "12": 1})
    assert _off_scale(values, counts).tolist() == [False, False, False, False, True, False, True]


def test_a_corrupted_cell_in_a_run_of_rows_is_repaired_from_its_neighbours():
    rows = runs()
    assert [row[0] for row in rows[4:7]] == ["1250", "1600", "2000"] and rows[16][3] == rows[15][3] == rows[17][3]
    rows[5][0] = "11..00"  # between 1250 and 2000, where every other run says 1600
    speed = rows[16][3]
    rows[16][3] = "".join(c * 2 for c in speed.replace(".", ""))  # `3399` for 39.6: doubled digits, point lost
    cleaned, log, _ = run(rows)
    assert cleaned[5][0] == "1600" and cleaned[16][3] == speed
    change = next(entry for entry in log if entry["row"] == "5" and entry["column"] == "frequency")
    assert change["rule"] == "dependency" and "row above" in change["evidence"] and "1250 + 2000" in change["evidence"]


def test_a_plausible_value_that_breaks_a_run_is_left_alone():
    rows = runs()
    rows[5][0] = "800"  # a valid frequency out of order: a one-row event, not a corrupted cell
    cleaned, log, _ = run(rows)
    assert cleaned[5][0] == "800" and not [entry for entry in log if entry["row"] == "5"]


def test_a_filler_that_breaks_runs_wherever_it_sits_is_repaired_but_a_value_that_also_fits_runs_is_not():
    rows = runs()
    truth = {}
    for number in (5, 17, 28, 44, 63, 86):  # a `0` written over sweep values, never where a 0 belongs
        truth[number] = rows[number][0]
        rows[number][0] = "0"
    rows[69][0] = "800"  # a real frequency out of order: it also continues runs elsewhere
    cleaned, log, _ = run(rows)
    assert {number: cleaned[number][0] for number in truth} == truth and cleaned[69][0] == "800"
    assert {(entry["row"], entry["column"]) for entry in log} == {(str(number), "frequency") for number in truth}


def clubs(seed: int = 4) -> list[list[str]]:
    """Players' seasons: the city is fixed by team and stadium together (each team plays at two
    stadiums, each stadium hosts two teams, each city two clubs), by neither alone; each player spends three seasons
    with one club and three with another."""
    rng = random.Random(seed)
    groups = [(team, stadium) for team in range(12) for stadium in (team % 6, (team + 1) % 6 + 6)]
    city = {group: f"City{n // 2:02d}" for n, group in enumerate(groups[1:])} | {groups[0]: "Solna"}  # two clubs a city
    rows = [["player", "team", "stadium", "city", "season"]]
    for player in range(120):
        first, second = rng.sample(groups, 2)
        for season in range(6):
            team, stadium = first if season < 3 else second
            rows.append([f"Player{player:03d}", f"Team{team:02d}", f"Arena{stadium:02d}", city[(team, stadium)],
                         str(2010 + season)])
    return rows


def test_a_frequent_value_written_over_one_players_rows_is_repaired_and_the_rest_of_the_row_kept():
    rows = clubs()
    victims = {"Player003", "Player017", "Player050", "Player081"}
    truth = {}
    for number, row in enumerate(rows[1:], 1):
        if row[0] in victims and row[3] != "Solna":
            truth[number] = row[:]
            row[3] = "Solna"  # the error wrote one frequent city over every row of these players
    assert len(truth) >= 20
    cleaned, log, _ = run(rows)
    assert {number: cleaned[number] for number in truth} == truth
    assert {entry["column"] for entry in log} == {"city"}


def test_a_flag_that_a_non_zero_amount_settles_is_repaired_from_that_side():
    rng = random.Random(7)
    rows = [["id", "children", "child_allowance"]]
    for n in range(1000):
        children = rng.random() < 0.5
        allowance = str(rng.choice([120, 250, 300, 410, 575, 640, 800, 900, 1000, 1100, 1200, 1300, 1500])) if children else "0"
        # Parents who claim nothing say either: only the non-zero side settles the flag.
        rows.append([str(n + 1), "Y" if children or rng.random() < 0.3 else "N", allowance])
    # The errors sit in one amount's rows, whose own group is then too mixed to say.
    wrong = [n for n in range(1, 1001) if rows[n][2] == "300"][:12]
    for n in wrong:
        rows[n][1] = "N"
    cleaned, log, _ = run(rows)
    assert [cleaned[n][1] for n in wrong] == ["Y"] * 12
    assert {entry["column"] for entry in log} == {"children"} and len(log) == 12
    assert "child_allowance (is zero) ≠0" in next(entry for entry in log if entry["row"] == str(wrong[0]))["evidence"]


def test_a_players_own_value_outvoted_by_a_pasted_frequent_one_wins_and_a_fully_overwritten_one_is_left():
    rng = random.Random(11)
    surnames = [f"Surname{n:03d}" for n in range(150)]
    rows = [["match", "player", "surname", "born"]]
    for player in range(150):
        rows += [[str(len(rows) + k), f"Player{player:03d}", surnames[player], str(1980 + player % 20)]
                 for k in range(rng.randint(6, 12))]
    pasted = ["Waldherr", "Rayne", "Milicia"]
    by_player: dict[str, list[int]] = {}
    for number, row in enumerate(rows[1:], 1):
        by_player.setdefault(row[1], []).append(number)
    outvoted, overwritten = [f"Player{n:03d}" for n in range(0, 30, 3)], ["Player100", "Player101"]
    truth = {}
    for player in outvoted:  # all rows but two or three get a frequent surname from elsewhere
        for number in by_player[player][3 if player.endswith("3") else 2:]:
            truth[number] = rows[number][2]
            rows[number][2] = rng.choice(pasted)
    for player in overwritten:  # no row keeps the real surname: nothing says what it was
        for number in by_player[player]:
            rows[number][2] = "Waldherr"
    for n in range(40, 90):  # and the same few names are pasted over single rows elsewhere
        number = by_player[f"Player{n:03d}"][0]
        truth[number] = rows[number][2]
        rows[number][2] = rng.choice(pasted)
    cleaned, log, _ = run(rows)
    assert {number: cleaned[number][2] for number in truth} == truth
    assert all(cleaned[number][2] == "Waldherr" for player in overwritten for number in by_player[player])
    assert {entry["column"] for entry in log} == {"surname"} and len(log) == len(truth)
