"""Corrupted tokens: values whose shape is an outlier in their column (`AK-*`, `d''Argence`,
`55..`, `7711..33`, `3595x`, `g2011`, `211` among four-digit years).

A corrupted token is repaired only when exactly one value the column already holds, several
times, is one edit away (or is the token with its junk suffix, doubled punctuation or doubled characters undone);
an `x` stands for an unknown digit and is matched, never deleted. Otherwise the token is left
and reported for validation: deleting characters would invent a value.
"""

import re
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd
from rapidfuzz.distance import OSA

_JUNK_SUFFIX = re.compile(r"^(.*?\w)\s*[-_#*+~^]*[*#~^]+$")
_DOUBLED = re.compile(r"\.\.|''|\"\"|,,|;;|::|//|--")  # no back-reference: Arrow's RE2 runs it
_WILD_X = re.compile(r"^[\dx.]*\d[\dx.]*$")
_DIGITS = re.compile(r"\d")
_ESCAPED_QUOTE = re.compile(r"(\w)''(\w)")
RARE_SHAPE = 0.01     # a shape held by under 1% of the column is an outlier,
RARE_MIN = 3          # ... or by fewer than three of its values
UNIFORM = 0.95        # valid-looking outliers are judged only in columns this uniform
MIN_COUNT = 2         # a candidate must occur this often


def shape(value: str) -> str:
    """Digits as 9 (each), letters as a (runs), other characters as they are."""
    return re.sub(r"[^\W\d_]+", "a", _DIGITS.sub("9", value))


def shapes(values: list[str]) -> dict[str, str]:
    """shape() of many values at once (vectorised: a column may hold thousands)."""
    if not values:
        return {}
    series = pd.Series(values, dtype="string")
    shaped = series.str.replace(r"\d", "9", regex=True).str.replace(r"[^\W\d_]+", "a", regex=True)
    return dict(zip(values, shaped.tolist(), strict=True))


def signatures(values: pd.Series) -> pd.Series:
    """signature() of many values at once."""
    lowered = values.str.lower()
    return (values.str.match(_JUNK_SUFFIX.pattern) | values.str.contains(_DOUBLED.pattern, regex=True)
            | (lowered.str.contains("x", regex=False) & lowered.str.fullmatch(_WILD_X.pattern))).fillna(False)


def signature(value: str) -> bool:
    """Marks of corruption, whatever the column: junk suffixes, doubled punctuation, `x` in digits."""
    return bool(_JUNK_SUFFIX.match(value) or _DOUBLED.search(value)
                or ("x" in value.lower() and _WILD_X.match(value.lower()) and "x" in value.lower()))


@dataclass
class TokenPlan:
    """What a column's values look like, and which of its values are frequent enough to be
    candidates."""

    shapes: Counter = field(default_factory=Counter)
    shape_of: dict[str, str] = field(default_factory=dict)
    candidates: dict[str, int] = field(default_factory=dict)
    uniform: bool = False
    total: int = 0
    _outliers: set[str] | None = None

    @classmethod
    def fit(cls, counts: Counter) -> "TokenPlan":
        plan = cls()
        plan.shape_of = shapes(list(counts))
        for value, n in counts.items():
            plan.shapes[plan.shape_of[value]] += n
        plan.total = sum(counts.values())
        plan.candidates = {value: n for value, n in counts.items() if n >= MIN_COUNT}
        plan.uniform = bool(plan.total) and plan.shapes.most_common(1)[0][1] >= UNIFORM * plan.total
        return plan

    def outliers(self) -> set[str]:
        """The column's values whose shape is rare (all at once)."""
        if self._outliers is None:
            limit = max(RARE_SHAPE * self.total, RARE_MIN)
            rare = {s for s, n in self.shapes.items() if n < limit}
            self._outliers = {value for value, s in self.shape_of.items() if s in rare} if self.total >= 20 else set()
        return self._outliers

    def outlier(self, value: str) -> bool:
        known = self.shape_of.get(value) or shape(value)
        return self.total >= 20 and self.shapes[known] < max(RARE_SHAPE * self.total, RARE_MIN)

    def check(self, value: str) -> tuple[str | None, str]:
        """(repaired value or None, why) for a value; ('', '') when it is not suspect."""
        marked = signature(value)
        if not self.outlier(value) or not (marked or self.uniform) or value in self.candidates and not marked:
            return None, ""
        common = {s for s, n in self.shapes.items() if n >= max(RARE_SHAPE * self.total, RARE_MIN)}
        found = {c for c in self._nearby(value) if shape(c) in common}
        if len(found) == 1:
            best = found.pop()
            return best, f"the only close value the column holds ({self.candidates[best]} rows)"
        if not found and _ESCAPED_QUOTE.search(value):
            # SQL/CSV-style escaping ('' for ') left in by an export: undoing it is decoding, not a guess.
            return _ESCAPED_QUOTE.sub(r"\1'\2", value), "an escaped quote ('' for ')"
        return None, "ambiguous" if found else "no close value in the column"

    def _nearby(self, value: str) -> set[str]:
        lowered = value.lower()
        if "x" in lowered and _WILD_X.match(lowered):
            pattern = re.compile("^" + re.escape(lowered).replace("x", r"\d") + "$")
            return {c for c in self.candidates if pattern.match(c)}
        undone = set()
        suffix = _JUNK_SUFFIX.match(value)
        if suffix:
            undone.add(suffix.group(1))
        if _DOUBLED.search(value):
            undone.add(_DOUBLED.sub(lambda match: match.group(0)[0], value))
        if len(value) >= 4 and len(value) % 2 == 0 and value[0::2] == value[1::2]:
            undone.add(value[0::2])  # every character doubled (`7711..33` for `71.3`)
        found = {c for c in undone if c in self.candidates}
        if found:
            return found
        if len(value) < 3:
            return set()
        return {c for c in self.candidates if abs(len(c) - len(value)) <= 1 and OSA.distance(value, c, score_cutoff=1) <= 1}
