"""A file's media type from its first bytes (not its name): shared by the gateway, which
types every upload, and the `aiorch plan` command, which types local files the same way."""

import csv

import filetype

TEXT_EXTENSIONS = {"txt", "text", "md", "log"}
SNIFF_BYTES = 64 * 1024


def detect_media_type(head: bytes, name: str) -> str:
    """The media type of a file from its first bytes; the name only tells CSV from TSV
    from plain text once the bytes are known to be text."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    text = _as_text(head)
    if text is None:
        return "application/octet-stream"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in TEXT_EXTENSIONS:
        return "text/plain"
    if extension == "tsv":
        return "text/tab-separated-values"
    if extension == "csv":
        return "text/csv"
    delimiter = _table_delimiter(text)
    if delimiter == "\t":
        return "text/tab-separated-values"
    return "text/csv" if delimiter else "text/plain"


def _as_text(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head[: len(head) // 2 * 2].decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the sniff window
            return head[: exc.start].decode("utf-8-sig")
    controls = sum(1 for byte in head if byte < 0x20 and byte not in b"\t\r\n\f")
    if controls > len(head) / 100:
        return None
    return head.decode("cp1252", errors="replace")


def _table_delimiter(text: str) -> str | None:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return None
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|")
    except csv.Error:
        return None
    widths = {len(row) for row in csv.reader(lines, dialect)}
    return dialect.delimiter if len(widths) == 1 and widths.pop() >= 2 else None
