"""The csv agent on public dirty/clean pairs (shared/data/cleaning-benchmarks), scored cell by
cell with aiorch.csv.scoring, plus the generated pair as a regression check.

Each pair is cut in two: the first 60% of rows ("dev", what the rules were developed on) and
the last 40% ("held-out", looked at only to report). Each part is cleaned as a file of its
own with the default spec, as a user would; zero labels, no per-pair settings.
"""

import csv
import io
import sys
import time

from aiorch.contracts import CleaningSpec
from aiorch.csv.cleaner import clean_bytes
from aiorch.csv.scoring import Score, score_cells
from aiorch.csv.synth import generate, score
from evals.common import EvalRow, shared_data

DEV_SHARE = 0.6
QUICK_ROWS = 400
TARGET = "P >= 0.95 each, mean F1 >= 0.85"


def read(path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as source:
        rows = list(csv.reader(source))
    return rows[0], rows[1:]


def cleaned_rows(header: list[str], rows: list[list[str]]) -> tuple[list[list[str]], float]:
    """The rows after cleaning, aligned with the input: the change log applied to the dirty
    rows (a row removed as a duplicate keeps its cells, so positions stay matched)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    started = time.perf_counter()
    result = clean_bytes(buffer.getvalue().encode(), "dirty.csv", CleaningSpec())
    seconds = time.perf_counter() - started
    position = {name: index for index, name in enumerate(result.output.columns_before)}
    output = [list(row) for row in rows]
    for change in csv.DictReader(io.StringIO(result.change_log_csv.decode())):
        if change["column"] in position and not change["rule"].startswith(("duplicate", "drop", "removed")):
            new = change["new"]
            if new.startswith("'") and change["old"] and not change["old"].startswith("'"):
                new = new[1:]  # the log quotes formula-like cells for spreadsheets
            output[int(change["row"]) - 1][position[change["column"]]] = new
    return output, seconds


def pair_rows(name: str, quick: bool) -> list[EvalRow]:
    folder = shared_data() / "cleaning-benchmarks" / name
    header, dirty = read(folder / "dirty.csv")
    _, clean = read(folder / "clean.csv")
    cut = int(len(dirty) * DEV_SHARE)
    splits = {"dev": (0, cut), "held-out": (cut, len(dirty))}
    if quick:
        splits = {"dev": (0, min(QUICK_ROWS, cut))}
    rows = []
    for split, (start, end) in splits.items():
        output, seconds = cleaned_rows(header, dirty[start:end])
        figures = score_cells(dirty[start:end], clean[start:end], output)
        print(f"  {name} {split}: P {figures.precision:.3f} R {figures.recall:.3f} F1 {figures.f1:.3f} "
              f"({figures.made} changes, {figures.needed} needed; {figures.by_kind()})", file=sys.stderr, flush=True)
        for example in figures.wrong_examples[:8]:
            print(f"    wrong: row {example[0]} col {example[1]}: {example[2]!r} -> {example[3]!r} (truth {example[4]!r})",
                  file=sys.stderr)
        rows.append(EvalRow("csv", name, end - start, _score(figures), seconds, split, TARGET,
                            f"{figures.made} changes, {figures.needed} needed; by kind (repaired/needed): {figures.by_kind()}"))
        rows[-1].figures = figures  # kept for the mean below
    return rows


def _score(figures: Score) -> str:
    return f"F1 {figures.f1:.2f} (P {figures.precision:.2f}, R {figures.recall:.2f})"


def evaluate(args) -> list[EvalRow]:
    quick = getattr(args, "quick", False)
    rows: list[EvalRow] = []
    folder = shared_data() / "cleaning-benchmarks"
    names = sorted(path.name for path in folder.iterdir() if (path / "dirty.csv").exists()) if folder.exists() else []
    if not names:
        print(f"  no benchmark pairs under {folder}", file=sys.stderr)
    for name in names:
        rows += pair_rows(name, quick)
    for split in ("dev", "held-out"):
        scored = [row for row in rows if row.split == split]
        if scored:
            f1 = sum(row.figures.f1 for row in scored) / len(scored)
            worst = min(row.figures.precision for row in scored)
            rows.append(EvalRow("csv", "mean over pairs", sum(r.cases for r in scored), f"F1 {f1:.2f} (lowest P {worst:.2f})",
                                sum(r.seconds for r in scored), split, TARGET))
    started = time.perf_counter()
    pair = generate(1000 if quick else 5000, seed=3)
    figures = score(clean_bytes(pair.dirty_csv, "dirty.csv", CleaningSpec()).change_log_csv, pair)
    precision, recall = figures["precision"], figures["recall"]
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    rows.append(EvalRow("csv", "generated pair (aiorch.csv.synth)", int(figures["errors"]),
                        f"F1 {f1:.2f} (P {precision:.2f}, R {recall:.2f})", time.perf_counter() - started, "all",
                        "P >= 0.95, R >= 0.85"))
    for row in rows:
        row.__dict__.pop("figures", None)
    return rows
