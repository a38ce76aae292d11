"""Find the texts a sentiment step should analyse. Pure functions, no I/O.

Sources in order of precedence: texts from an earlier step, attached files (a text
file, or a CSV column), `texts`/`text` parameters (each text scored on its own), quoted
text in the instruction, text after a colon, and finally the instruction itself once
command words are removed. Problems raise `SentimentError`.
"""

import csv
import io
import re
from dataclasses import dataclass

from aiorch.contracts.wording import quoted_texts

from .errors import SentimentError

MAX_TEXTS = 2_000_000
_COMMAND = re.compile(
    r"^\s*(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?"
    r"(?:(?:analy[sz]e|check|detect|determine|tell me|find|give me|get|score|classify|rate|what(?:'s| is| are))\s+)?"
    r"(?:the\s+)?(?:overall\s+)?(?:sentiment|emotions?|tone|mood|feelings?|polarity)"
    r"(?:\s+and\s+(?:the\s+)?(?:sentiment|emotions?|tone|mood))?"
    r"\s*(?:of|in|for|behind)?\s*"
    r"(?:(?:(?:this|these|the|following)\s+)?(?:text|sentences?|reviews?|comments?|message|tweet)\b|(?:this|these|following)\b)?"
    r"\s*[:\-–—]?\s*",
    re.IGNORECASE,
)
_CONTENT_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
_COMMAND_WORDS = {
    "analyse", "analyze", "sentiment", "emotion", "emotions", "tone", "mood", "please", "the", "of", "this",
    "text", "what", "is", "check", "tell", "me", "in", "and", "for", "file", "attached", "these", "reviews",
    "comments", "column", "csv", "polarity", "feelings", "it", "an", "a", "to", "on",
}
_LINE_WORDS = re.compile(r"\b(each|every|per)\s+line\b|\bline by line\b|\bone per line\b", re.IGNORECASE)


@dataclass
class TextBatch:
    texts: list[str]
    source: str
    note: str | None = None


@dataclass
class TextFile:
    name: str
    media_type: str
    data: bytes


def decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SentimentError("unreadable_file", f"{name} is a binary file, not text")
    for encoding in ("utf-8-sig", "utf-16") if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return data.decode("cp1252", errors="replace")


def texts_from_csv(text: str, name: str, instruction: str, column: str | None) -> TextBatch:
    sample = text[:64 * 1024]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise SentimentError("empty_input", f"{name} is empty")
    header, body = [cell.strip() for cell in rows[0]], rows[1:]
    if not body:
        raise SentimentError("empty_input", f"{name} has a header but no rows")
    index = _pick_column(header, body, instruction, column, name)
    texts = [row[index].strip() for row in body if index < len(row) and row[index].strip()]
    if not texts:
        raise SentimentError("empty_input", f"column {header[index]!r} of {name} has no text")
    chosen = "named" if column or _named_column(header, instruction) is not None else "chosen as the longest text column"
    return TextBatch(texts, "column", f"Column `{header[index]}` of `{name}` ({chosen}), {len(texts):,} non-empty rows.")


def _named_column(header: list[str], instruction: str) -> int | None:
    lowered = instruction.lower()
    best: tuple[int, int] | None = None
    for index, name in enumerate(header):
        if name and re.search(rf"(?<![\w]){re.escape(name.lower())}(?![\w])", lowered):
            if best is None or len(name) > best[1]:
                best = (index, len(name))
    return best[0] if best else None


def _pick_column(header: list[str], body: list[list[str]], instruction: str, column: str | None, name: str) -> int:
    if column:
        for index, heading in enumerate(header):
            if heading.lower() == column.lower():
                return index
        raise SentimentError("unknown_column", f"{name} has no column {column!r}; its columns are {header}")
    named = _named_column(header, instruction)
    if named is not None:
        return named
    sample = body[:500]

    def text_length(index: int) -> float:
        values = [row[index] for row in sample if index < len(row)]
        textual = [value for value in values if value.strip() and not _is_number(value)]
        return sum(len(value) for value in textual) / max(len(values), 1)

    return max(range(len(header)), key=text_length)


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", "").strip())
    except ValueError:
        return False
    return True


def texts_from_instruction(instruction: str) -> TextBatch | None:
    quoted = quoted_texts(instruction)
    quoted = [text.strip() for text in quoted if text.strip()]
    if quoted:
        return TextBatch(quoted, "quoted")
    if ":" in instruction:
        after = instruction.split(":", 1)[1].strip()
        if _has_content(after):
            return TextBatch([after], "inline")
    remainder = _COMMAND.sub("", instruction, count=1).strip()
    if _has_content(remainder):
        return TextBatch([remainder], "inline")
    return None


def _has_content(text: str) -> bool:
    return any(word.lower() not in _COMMAND_WORDS for word in _CONTENT_WORD.findall(text))


def select_texts(
    instruction: str,
    params: dict,
    files: list[TextFile],
    upstream: list[list[str]],
) -> TextBatch:
    upstream_texts = [text for texts in upstream for text in texts if isinstance(text, str) and text.strip()]
    if upstream:
        if not upstream_texts:
            raise SentimentError("empty_input", "the earlier step produced no text to analyse")
        return _bounded(TextBatch(upstream_texts, "upstream"))
    if files:
        batches = [_texts_from_file(file, instruction, params) for file in files]
        texts = [text for batch in batches for text in batch.texts]
        notes = " ".join(batch.note for batch in batches if batch.note)
        return _bounded(TextBatch(texts, batches[0].source if len(batches) == 1 else "files", notes or None))
    given = texts_from_params(params)
    if given:
        return _bounded(TextBatch(given, "inline"))
    batch = texts_from_instruction(instruction)
    if batch is None:
        raise SentimentError(
            "empty_input",
            "no text to analyse: put the text in quotes or after a colon, or attach a .txt or .csv file",
        )
    return batch


def texts_from_params(params: dict) -> list[str]:
    """`params.texts` (a list of strings) and `params.text` (one string, kept unless `texts` holds it)."""
    texts = params.get("texts")
    if texts is None:
        texts = []
    elif isinstance(texts, str):
        texts = [texts]
    elif not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise SentimentError("invalid_params", "params.texts must be a list of strings")
    text = params.get("text")
    if text is not None and not isinstance(text, str):
        raise SentimentError("invalid_params", "params.text must be a string")
    found = [value.strip() for value in texts if value.strip()]
    if text and text.strip() and text.strip() not in found:
        found.insert(0, text.strip())
    return found


def _texts_from_file(file: TextFile, instruction: str, params: dict) -> TextBatch:
    text = decode(file.data, file.name)
    if not text.strip():
        raise SentimentError("empty_input", f"{file.name} is empty")
    if file.media_type in ("text/csv", "text/tab-separated-values"):
        column = params.get("column")
        return texts_from_csv(text, file.name, instruction, column if isinstance(column, str) else None)
    if params.get("split") == "lines" or _LINE_WORDS.search(instruction):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return TextBatch(lines, "file", f"`{file.name}`, one text per line ({len(lines):,} lines).")
    return TextBatch([text.strip()], "file", f"`{file.name}` as one document.")


def _bounded(batch: TextBatch) -> TextBatch:
    if len(batch.texts) > MAX_TEXTS:
        raise SentimentError("too_many_texts", f"{len(batch.texts):,} texts is over the limit of {MAX_TEXTS:,}")
    return batch
