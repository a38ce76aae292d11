"""Cell-by-cell scoring of a cleaned table against its ground truth (dirty, clean, cleaned:
same rows in the same order, columns matched by position).

Only what a reader would call a different value counts: numbers compare by value (`800` is
`800.0`, `1,234` is `1234`, `97%` is `97`), missing markers are one value, runs of spaces
are one space. A cell *needed* a change when dirty and clean differ so; a change was *made*
when cleaned and dirty differ so; it is *correct* when cleaned equals clean.
"""

import re
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from . import values as v

_NUMBER = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")
KINDS = ("missing", "format", "corrupted", "replaced")


def norm(value: str | None) -> str:
    text = v.tidy(value or "")
    if text.lower() in v.MISSING_MARKERS:
        return ""
    bare = text[:-1].rstrip() if text.endswith("%") else text
    if bare and any(c.isdigit() for c in bare) and _NUMBER.match(bare):
        number = float(bare.replace(",", ""))
        return repr(number + 0.0)  # -0.0 and 0.0 are one value
    return text


def kind_of(dirty: str, clean: str) -> str:
    """What sort of error a needed change is, judged from the pair alone."""
    if not dirty:
        return "missing"
    if not clean or dirty.lower() == clean.lower() or dirty.replace(" ", "").lower() == clean.replace(" ", "").lower():
        return "format"  # case or spacing, or a value that should be missing
    if Levenshtein.distance(dirty, clean) <= max(2, len(clean) // 3):
        return "corrupted"
    return "replaced"


@dataclass
class Score:
    made: int = 0
    correct: int = 0
    needed: int = 0
    needed_by_kind: Counter = field(default_factory=Counter)
    correct_by_kind: Counter = field(default_factory=Counter)
    wrong_examples: list[tuple[int, int, str, str, str]] = field(default_factory=list)
    """(row, column, dirty, cleaned, clean) of changes that did not give the clean value."""

    @property
    def precision(self) -> float:
        return self.correct / self.made if self.made else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.needed if self.needed else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: "Score") -> None:
        self.made += other.made
        self.correct += other.correct
        self.needed += other.needed
        self.needed_by_kind.update(other.needed_by_kind)
        self.correct_by_kind.update(other.correct_by_kind)
        self.wrong_examples += other.wrong_examples

    def by_kind(self) -> str:
        return ", ".join(f"{kind} {self.correct_by_kind[kind]}/{self.needed_by_kind[kind]}"
                         for kind in KINDS if self.needed_by_kind[kind])


def score_cells(dirty: list[list[str]], clean: list[list[str]], cleaned: list[list[str]],
                examples: int = 50) -> Score:
    """Rows without their header; a row missing from `cleaned` counts as left unchanged."""
    result = Score()
    for number, (d_row, c_row) in enumerate(zip(dirty, clean, strict=False)):
        o_row = cleaned[number] if number < len(cleaned) else d_row
        for column, (d_raw, c_raw) in enumerate(zip(d_row, c_row, strict=False)):
            d, c = norm(d_raw), norm(c_raw)
            o = norm(o_row[column]) if column < len(o_row) else d
            if d != c:
                result.needed += 1
                kind = kind_of(d, c)
                result.needed_by_kind[kind] += 1
                if o == c:
                    result.correct_by_kind[kind] += 1
            if o != d:
                result.made += 1
                if o == c:
                    result.correct += 1
                elif len(result.wrong_examples) < examples:
                    result.wrong_examples.append((number + 1, column, d_raw, o_row[column], c_raw))
    return result
