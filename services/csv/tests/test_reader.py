import pytest

from aiorch.csv.errors import CsvProblem
from aiorch.csv.reader import MAX_FIELD_CHARS, read_table


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(delimiter):
    data = f"name{delimiter}city\nAda{delimiter}Paris\nBen{delimiter}Rome\n".encode()
    table = read_table(data, "x.csv")
    assert table.delimiter == delimiter and list(table.frame.columns) == ["name", "city"]
    assert table.frame["city"].tolist() == ["Paris", "Rome"]


@pytest.mark.parametrize(
    "data, encoding",
    [
        ("name\nZoë\nJosé\n".encode("utf-8-sig"), "utf-8-sig"),
        ("name\nZoë\nJosé\n".encode("utf-8"), "utf-8"),
        ("name\nZoë\nJosé\n".encode("latin-1"), "windows-1252"),
        ("name\nprice €5\n“quoted”\n".encode("cp1252"), "windows-1252"),
    ],
)
def test_encodings_are_detected(data, encoding):
    table = read_table(data, "x.csv")
    assert table.encoding == encoding
    assert "Zoë" in table.frame["name"].tolist() or "“quoted”" in table.frame["name"].tolist()


def test_quoted_fields_with_newlines_stay_one_field():
    table = read_table(b'id,comment\n1,"line one\nline two"\n2,plain\n', "x.csv")
    assert table.frame["comment"].tolist() == ["line one\nline two", "plain"]


def test_ragged_rows_are_kept_and_reported_with_line_numbers():
    data = b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12,,\n"
    table = read_table(data, "x.csv")
    assert [(r.line, r.fields, r.handling) for r in table.ragged] == [
        (3, 2, "padded with empty values"),
        (4, 4, "extra values kept in column _extra"),
        (5, 5, "trailing empty fields dropped"),
    ]
    assert len(table.frame) == 4 and table.frame["_extra"].tolist() == ["", "", "9", ""]


def test_a_file_without_a_header_gets_column_names():
    table = read_table(b"1,2020-01-01,5.5\n2,2020-01-02,6.5\n", "x.csv")
    assert not table.has_header and list(table.frame.columns) == ["column_1", "column_2", "column_3"]
    assert len(table.frame) == 2


def test_a_single_column_is_read_and_noted():
    table = read_table(b"name\nAda\nBen\n", "x.csv")
    assert list(table.frame.columns) == ["name"] and "one column only" in " ".join(table.notes)


@pytest.mark.parametrize(
    "data, code, message",
    [
        (b"", "empty_file", "is empty"),
        (b"   \n\n", "empty_file", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary_file", "binary file"),
        (b"a,b,c\n", "no_rows", "has a header (a, b, c) but no data rows"),
        (b"a,b\n1," + b"x" * (MAX_FIELD_CHARS + 10) + b"\n", "field_too_large", "longer than 1,048,576 characters"),
    ],
)
def test_bad_files_get_a_clear_problem(data, code, message):
    with pytest.raises(CsvProblem) as caught:
        read_table(data, "x.csv")
    assert caught.value.code == code and message in caught.value.message


def test_a_few_undecodable_bytes_are_replaced_and_reported():
    data = "name\n".encode() + "Zoë\n".encode() * 50 + b"bad \xff\xfe byte\n"
    table = read_table(data, "x.csv")
    assert table.encoding == "utf-8" and "undecodable byte" in table.notes[0] and "52" in table.notes[0]
    assert "Zoë" in table.frame["name"].tolist()
