"""The generated dirty/clean pair, scored cell by cell (in memory and streamed)."""

import pytest

from aiorch.contracts import CleaningSpec
from aiorch.csv.cleaner import clean_bytes
from aiorch.csv.stream import clean_file
from aiorch.csv.synth import generate, score


@pytest.mark.parametrize("seed", [7, 11])
def test_repairs_on_the_generated_pair_are_precise_and_complete(seed):
    pair = generate(2000, seed=seed)
    result = clean_bytes(pair.dirty_csv, "dirty.csv", CleaningSpec())
    figures = score(result.change_log_csv, pair)
    assert figures["precision"] >= 0.95 and figures["recall"] >= 0.85, figures


def test_the_streamed_path_scores_too(tmp_path):
    pair = generate(2000, seed=5)
    (tmp_path / "dirty.csv").write_bytes(pair.dirty_csv)
    output, report = clean_file(tmp_path / "dirty.csv", "dirty.csv", CleaningSpec(), tmp_path / "clean.csv",
                                tmp_path / "log.csv", block_bytes=32 * 1024)
    figures = score((tmp_path / "log.csv").read_bytes(), pair)
    assert figures["precision"] >= 0.95 and figures["recall"] >= 0.85, figures
    assert output.streamed and output.rows_before == pair.dirty_csv.count(b"\n") - 1
    assert output.duplicates_removed >= 0.8 * len(pair.duplicate_rows) and "in batches" in report


def test_score_counts_wrong_repairs_against_precision():
    pair = generate(200, seed=1)
    wrong = b"row,column,old,new,rule\n" + b"".join(f"{n},city,x,Nowhere,typo\n".encode() for n in range(1, 51))
    assert score(wrong, pair)["precision"] < 0.1
