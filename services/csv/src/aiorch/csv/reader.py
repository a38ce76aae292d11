"""Reading what people call a CSV: encoding, delimiter, header, quoted newlines, ragged rows."""

import csv
import io
import re
from dataclasses import dataclass, field

import pandas as pd

from aiorch.contracts import RaggedRow

from .errors import CsvProblem

DELIMITERS = ",;\t|"
MAX_FIELD_CHARS = 1024 * 1024
SAMPLE_CHARS = 256 * 1024
EXTRA_COLUMN = "_extra"
_NUMBER_LIKE = re.compile(r"^[\s$€£¥+-]*\d[\d.,\s]*%?\s*$")


@dataclass
class Table:
    frame: pd.DataFrame
    encoding: str
    delimiter: str
    has_header: bool
    ragged: list[RaggedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def decode(data: bytes, name: str) -> tuple[str, str, list[str]]:
    """Text, encoding name and notes. Refuses binary files."""
    if not data.strip():
        raise CsvProblem("empty_file", f"{name} is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            raise CsvProblem("unreadable_file", f"{name} starts like UTF-16 but does not decode") from None
    head = data[:8192]
    controls = sum(1 for byte in head if byte < 0x20 and byte not in b"\t\r\n\f")
    if b"\x00" in head or controls > len(head) * 0.01:
        raise CsvProblem("binary_file", f"{name} is a binary file, not a CSV")
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8"), "utf-8-sig", []
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass
    replaced = data.decode("utf-8", errors="replace")
    bad = replaced.count("\ufffd")
    high = sum(1 for byte in data[:65536] if byte >= 0x80)
    if bad and bad * 20 < high and bad <= 1000:
        # Mostly valid UTF-8 with a few broken bytes: keep the text, say where.
        lines = [number for number, line in enumerate(replaced.splitlines(), 1) if "\ufffd" in line][:10]
        return replaced, "utf-8", [f"{bad} undecodable byte sequences replaced with U+FFFD (lines {lines})"]
    try:
        return data.decode("cp1252"), "windows-1252", []
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1", []


def sniff_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    # The sniffer gives up on quoted multi-line fields; count delimiters outside quotes.
    counts = {d: sum(_unquoted(line).count(d) for line in lines) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _unquoted(line: str) -> str:
    return re.sub(r'"[^"]*"', "", line)


def looks_like_header(first: list[str], rest: list[list[str]]) -> bool:
    cells = [cell.strip() for cell in first]
    if not cells or any(not cell for cell in cells) or len(set(cells)) != len(cells):
        return False
    if any(_NUMBER_LIKE.match(cell) for cell in cells):
        return False
    return True


def read_table(data: bytes, name: str) -> Table:
    text, encoding, notes = decode(data, name)
    delimiter = sniff_delimiter(text[:SAMPLE_CHARS])
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    blank = 0
    previous = 0
    try:
        for row in reader:
            start = previous + 1
            previous = reader.line_num
            if not any(cell.strip() for cell in row):
                blank += 1
                continue
            rows.append(row)
            lines.append(start)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise CsvProblem("field_too_large", f"{name}, line {reader.line_num}: a field is longer than "
                             f"{MAX_FIELD_CHARS:,} characters; is this really a CSV?") from None
        raise CsvProblem("unreadable_csv", f"{name}, line {reader.line_num}: {exc}") from None
    if not rows:
        raise CsvProblem("empty_file", f"{name} has no rows")
    has_header = looks_like_header(rows[0], rows[1:])
    if has_header:
        header = [cell.strip() for cell in rows[0]]
        body, body_lines = rows[1:], lines[1:]
        if not body:
            raise CsvProblem("no_rows", f"{name} has a header ({', '.join(header[:10])}) but no data rows")
    else:
        width = max(len(row) for row in rows[:1000])
        header = [f"column_{index + 1}" for index in range(width)]
        body, body_lines = rows, lines
        notes.append("no header row found; columns are named column_1, column_2, ...")
    ragged, body = _fit_rows(header, body, body_lines)
    if any(EXTRA_COLUMN == column for column in header):
        raise CsvProblem("unreadable_csv", f"{name} already has a column named {EXTRA_COLUMN}")
    columns = header + ([EXTRA_COLUMN] if any(r.handling.startswith("extra") for r in ragged) else [])
    body = [row + [""] * (len(columns) - len(row)) for row in body]
    frame = pd.DataFrame(body, columns=_unique(columns), dtype=object)
    if blank:
        notes.append(f"{blank} blank lines skipped")
    if len(header) == 1:
        notes.append("one column only (no delimiter found)")
    return Table(frame, encoding, delimiter, has_header, ragged, notes)


def _fit_rows(header: list[str], body: list[list[str]], lines: list[int]) -> tuple[list[RaggedRow], list[list[str]]]:
    """Pad short rows, keep the surplus of long ones in `_extra`, and report each."""
    width = len(header)
    ragged = []
    fitted = []
    for row, line in zip(body, lines, strict=True):
        if len(row) == width:
            fitted.append(row)
            continue
        if len(row) < width:
            handling = "padded with empty values"
            fitted.append(row + [""] * (width - len(row)))
        elif not any(cell.strip() for cell in row[width:]):
            handling = "trailing empty fields dropped"
            fitted.append(row[:width])
        else:
            handling = f"extra values kept in column {EXTRA_COLUMN}"
            fitted.append(row[:width] + ["|".join(row[width:])])
        ragged.append(RaggedRow(line=line, fields=len(row), expected=width, handling=handling))
    return ragged, fitted


def _unique(columns: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for column in columns:
        count = seen.get(column, 0)
        seen[column] = count + 1
        result.append(column if count == 0 else f"{column}_{count + 1}")
    return result
