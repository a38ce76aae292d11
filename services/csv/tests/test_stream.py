import csv
import io

from aiorch.contracts import CleaningSpec
from aiorch.csv.stream import clean_file


def test_duplicates_are_found_across_batches_and_ragged_rows_listed(tmp_path):
    rows = [f"{n % 500},name {n % 500},{'N/A' if n % 50 == 0 else n % 7}" for n in range(500)] * 6
    rows.insert(100, "x,y,z,too,many")
    (tmp_path / "in.csv").write_text("id,name,score\n" + "\n".join(rows) + "\n")
    output, _ = clean_file(tmp_path / "in.csv", "in.csv", CleaningSpec(), tmp_path / "out.csv", tmp_path / "log.csv",
                           block_bytes=8 * 1024)
    assert output.rows_after == 500 and output.duplicates_removed == 2500
    assert [(r.line, r.fields) for r in output.ragged_rows] == [(102, 5)]
    cleaned = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text())))
    assert len(cleaned) == 500 and cleaned[0]["score"] == ""
    assert output.changes_per_rule["missing_marker"] == 60  # repaired in every copy, then deduplicated


def test_formulas_are_quoted_in_the_streamed_output(tmp_path):
    (tmp_path / "in.csv").write_text("a,b\n=1+1,-5\n@x,2\n")
    clean_file(tmp_path / "in.csv", "in.csv", CleaningSpec(), tmp_path / "out.csv", tmp_path / "log.csv")
    text = (tmp_path / "out.csv").read_text()
    assert "'=1+1" in text and "'@x" in text and '"-5"' in text


def test_a_line_longer_than_a_block_fails_clearly(tmp_path):
    import pytest

    from aiorch.csv.errors import CsvProblem

    (tmp_path / "in.csv").write_bytes(b"a,b\n1," + b"x" * 300_000 + b"\n2,y\n")
    with pytest.raises(CsvProblem) as caught:
        clean_file(tmp_path / "in.csv", "in.csv", CleaningSpec(), tmp_path / "o.csv", tmp_path / "l.csv",
                   block_bytes=64 * 1024)
    assert caught.value.code == "unreadable_csv" and "in.csv" in caught.value.message
