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


PLACES = [("02101", "Boston", "MA"), ("10001", "New York", "NY"), ("60601", "Chicago", "IL"), ("94103", "San Francisco", "CA"),
          ("73301", "Austin", "TX"), ("98101", "Seattle", "WA"), ("80202", "Denver", "CO"), ("33101", "Miami", "FL")]


def test_large_files_get_the_repairs_beyond_one_cell_in_every_batch(tmp_path):
    rows = [[str(n), *PLACES[n % 8], ["2010", "2011", "2012"][n % 3]] for n in range(1, 3001)]
    assert rows[2397][1:3] == ["80202", "Denver"]
    rows[2397][2] = "Chicago"  # zip 80202 says Denver on its other rows
    rows[2500][4] = "g2011"    # a corrupted token, one close value in the column
    rows[2700][4] = "20x"      # no value to take: left and flagged
    rows[2600:2600] = [rows[5], rows[6]]  # duplicates of earlier rows shift the output rows after them
    lines = ["id,zip,city,state,season"] + [",".join(row) for row in rows]
    (tmp_path / "in.csv").write_text("\n".join(lines) + "\n")
    output, report = clean_file(tmp_path / "in.csv", "in.csv", CleaningSpec(), tmp_path / "out.csv", tmp_path / "log.csv",
                                block_bytes=16 * 1024)
    log = list(csv.DictReader(io.StringIO((tmp_path / "log.csv").read_text())))
    changed = {(entry["row"], entry["column"]): entry for entry in log}
    assert changed[("2398", "city")]["new"] == "Denver" and changed[("2398", "city")]["rule"] == "dependency"
    assert "80202" in changed[("2398", "city")]["evidence"]
    assert changed[("2501", "season")]["new"] == "2011" and changed[("2501", "season")]["rule"] == "token"
    cleaned = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text())))
    flagged = [f for f in output.validation if "looks corrupted" in f.check]
    assert [(f.column, f.value) for f in flagged] == [("season", "20x")]
    # Numbered as a row of the cleaned file (input row 2703, after two removed duplicates).
    assert flagged[0].row == 2701 and cleaned[flagged[0].row][4] == "20x"
    assert output.duplicates_removed == 2 and "dependencies found" in report
