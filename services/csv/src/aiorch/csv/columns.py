"""Per column: learn what the column is (from all its values, or a sample of a large
file), then clean each distinct value once. Every change carries the rule that made it."""

import re
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from . import values as v

# When several rules touch a cell, the change is filed under the most telling one.
RULE_PRIORITY = ["missing_marker", "typo", "variant", "number_format", "date_format", "boolean", "case", "whitespace"]
_KEY = re.compile(r"[\W_]+", re.UNICODE)
_LIST = re.compile(r"\s*[,;|/]\s*")
NUMERIC_SHARE = 0.9
DATE_SHARE = 0.65  # two dates in three make a date column; the rest are reported by validation
PATTERN_SHARE = 0.8


def fingerprint(value: str) -> str:
    """Case, spacing and punctuation aside, the same value; a list keeps its number of items
    ('Action,Adventure' is not 'Action & Adventure')."""
    key = _KEY.sub("", value.lower())
    parts = len(_LIST.split(value))
    return f"{key}#{parts}" if parts > 1 else key


def typo_limit(rare: str, frequent: str, listed: bool = False) -> int:
    """Edits allowed between a typo and its word: one, or two in longer words when the
    length is the same (two characters mistyped, like 'caxxed' for 'called'); one in a list
    of items, whose length says nothing about each item's."""
    if listed:
        return 1
    if len(rare) >= 8 or (len(rare) >= 6 and len(rare) == len(frequent)):
        return 2
    return 1


@dataclass
class ColumnPlan:
    name: str
    kind: str = "text"
    number_styles: dict[str, str] = field(default_factory=dict)
    decimal_comma: bool = False
    unit: str = ""
    unit_written: str = ""
    """When every number in the column carries one unit: how it is written (' min'), kept."""
    date_formats: list[str] = field(default_factory=list)
    with_time: bool = False
    boolean_words: tuple[str, str] = ("true", "false")
    canonical: dict[str, tuple[str, str]] = field(default_factory=dict)
    """raw value -> (canonical value, rule) for category variants and typos."""
    spellings: dict[str, tuple[str, int]] = field(default_factory=dict)
    """fingerprint -> (dominant spelling, count), to place values first seen in a later chunk."""
    issues: list[str] = field(default_factory=list)

    # --- learning ---------------------------------------------------------------------

    @classmethod
    def fit(cls, name: str, counts: Counter[str], rows: int) -> "ColumnPlan":
        """`counts`: how often each tidy, non-missing value occurs."""
        plan = cls(name)
        total = sum(counts.values())
        if not total:
            plan.kind = "empty"
            return plan
        if plan._fit_boolean(counts, total) or plan._fit_number(counts, total) or plan._fit_date(counts, total):
            return plan
        for kind, pattern in (("email", v.EMAIL), ("url", v.URL)):
            if sum(n for value, n in counts.items() if pattern.match(value)) >= PATTERN_SHARE * total:
                plan.kind = kind
                return plan
        distinct = len({fingerprint(value) for value in counts})
        if total >= 5 and distinct <= max(2, min(200, total // 2)):
            plan.kind = "category"
            plan._fit_categories(counts, total)
        return plan

    def _fit_boolean(self, counts: Counter[str], total: int) -> bool:
        parsed = {value: v.boolean_of(value) for value in counts}
        if any(result is None for result in parsed.values()) or len(counts) < 2:
            return False
        families = Counter()
        casing = Counter()
        for value, n in counts.items():
            families[parsed[value][0]] += n
            casing[_casing(value)] += n
        family = v.BOOLEAN_FAMILIES[families.most_common(1)[0][0]]
        style = casing.most_common(1)[0][0]
        self.kind = "boolean"
        self.boolean_words = (_apply_casing(family[0], style), _apply_casing(family[1], style))
        return True

    def _fit_number(self, counts: Counter[str], total: int) -> bool:
        styles: Counter[str] = Counter()
        units: Counter[str] = Counter()
        written: Counter[str] = Counter()
        parsed = 0
        for value, n in counts.items():
            split = v.split_number(value)
            if split is None or v.number_style(split[1]) is None:
                continue
            parsed += n
            styles[v.number_style(split[1])] += n
            if split[2]:
                units[split[2]] += n
                written[v.unit_suffix(value)] += n
        if parsed < NUMERIC_SHARE * total or (parsed == 0):
            return False
        # "1,5" is a decimal comma when the column also writes "1.234,5" or never "1,234".
        self.decimal_comma = styles["eu"] > 0 or (styles["decimal_comma"] > 0 and styles["us"] == 0 and styles["plain"] * 2 < styles["decimal_comma"] + styles["plain"])
        self.kind = "number"
        if units:
            self.unit = units.most_common(1)[0][0]
            others = sum(n for unit, n in units.items() if unit != self.unit)
            if others:
                self.issues.append(f"{others} values in another unit than '{self.unit}' (left as they are)")
            elif units[self.unit] == parsed:
                # The whole column carries one unit: it is part of the representation; keep it.
                self.unit_written = written.most_common(1)[0][0]
                self.issues.append(f"every value carries the unit '{self.unit_written.strip()}' (kept)")
        if parsed < total:
            self.issues.append(f"{total - parsed} values are not numbers")
        return True

    def _fit_date(self, counts: Counter[str], total: int) -> bool:
        evidence = sum(v.dayfirst_evidence(value) * n for value, n in counts.items())
        dotted = sum(n for value, n in counts.items() if re.match(r"^\d{1,2}\.\d{1,2}\.", value))
        dayfirst = evidence > 0 or (evidence == 0 and dotted > total / 2)
        formats = v.date_formats(dayfirst)
        # Most columns are not dates: decide on the most frequent values before parsing them all.
        sample = counts.most_common(200)
        sampled = sum(n for _, n in sample)
        misses = 0
        for value, n in sample:
            if not v.parse_date(value, formats):
                misses += n
                if sampled - misses < DATE_SHARE * sampled:  # the same test as below: stop once it is settled
                    return False
        parsed = 0
        with_time = False
        for value, n in counts.items():
            result = v.parse_date(value, formats)
            if result:
                parsed += n
                with_time = with_time or result[1]
        if parsed < DATE_SHARE * total:
            return False
        self.kind = "date"
        self.date_formats = formats
        self.with_time = with_time
        if parsed < total:
            self.issues.append(f"{total - parsed} values are not dates")
        return True

    def _fit_categories(self, counts: Counter[str], total: int) -> None:
        # Variants: the same fingerprint (case, spaces, punctuation) -> the most frequent spelling.
        groups: dict[str, Counter[str]] = {}
        for value, n in counts.items():
            groups.setdefault(fingerprint(value), Counter())[value] = n
        group_totals = Counter({key: sum(group.values()) for key, group in groups.items()})
        self.spellings = {key: (group.most_common(1)[0][0], group_totals[key]) for key, group in groups.items()}
        for key, group in groups.items():
            best = group.most_common(1)[0][0]
            for value in group:
                if value != best:
                    rule = "case" if value.lower() == best.lower() else "variant"
                    self.canonical[value] = (best, rule)
        # Typos: a rare spelling one or two edits away from a much more frequent one.
        rare_limit = max(2, total // 200)
        frequent = [(key, n) for key, n in group_totals.items() if n >= 3]
        for key, n in group_totals.items():
            if not key or key.isdigit() or len(key) < 4 or n > rare_limit:
                continue
            matches = sorted(
                (Levenshtein.distance(key, other, score_cutoff=2), -m, other) for other, m in frequent
                if other != key and m >= max(3, 3 * n)
            )
            raw = next(iter(groups[key]))
            matches = [match for match in matches if match[0] <= typo_limit(key, match[2], bool(_LIST.search(raw)))
                       and same_parts(raw, groups[match[2]].most_common(1)[0][0])]
            if not matches:
                continue
            if len(matches) > 1 and matches[1][0] == matches[0][0] and -matches[1][1] * 5 > -matches[0][1]:
                continue  # ambiguous between two frequent spellings
            target = groups[matches[0][2]].most_common(1)[0][0]
            for value in groups[key]:
                self.canonical[value] = (target, "typo")
        folded = sum(counts[value] for value in self.canonical)
        if folded:
            self.issues.append(f"{folded} values folded into the dominant spelling")

    # --- cleaning one value ---------------------------------------------------------------

    def clean(self, raw: str | None) -> tuple[str | None, str | None]:
        """(clean value, rule) for one raw cell; rule None when nothing changed."""
        if raw is None:
            return None, None
        rules = []
        value = v.tidy(raw)
        if value != raw:
            rules.append("whitespace")
        if value.lower() in v.MISSING_MARKERS:
            return None, ("missing_marker" if raw.strip() else None)
        new, rule = self._typed(value)
        if rule:
            rules.append(rule)
        if not rules:
            return raw, None
        return new, min(rules, key=RULE_PRIORITY.index)

    def _typed(self, value: str) -> tuple[str, str | None]:
        kind = self.kind
        if kind == "number":
            split = v.split_number(value)
            if split is None:
                return value, None
            sign, digits, unit = split
            if unit and unit != self.unit:
                return value, None
            style = v.number_style(digits)
            number = v.canonical_number(sign, digits, style, self.decimal_comma) if style else None
            if number is not None and self.unit_written:
                number += self.unit_written
            return (number, "number_format") if number is not None and number != value else (value, None)
        if kind == "date":
            parsed = v.parse_date(value, self.date_formats)
            if parsed is None:
                return value, None
            text = parsed[0].strftime("%Y-%m-%dT%H:%M:%S" if self.with_time else "%Y-%m-%d")
            return (text, "date_format") if text != value else (value, None)
        if kind == "boolean":
            parsed = v.boolean_of(value)
            text = self.boolean_words[0 if parsed[1] else 1] if parsed else value
            return (text, "boolean") if text != value else (value, None)
        if kind == "email":
            lowered = value.lower()
            return (lowered, "case") if lowered != value and v.EMAIL.match(value) else (value, None)
        if kind == "category":
            if value in self.canonical:
                return self.canonical[value]
            if self.spellings:
                return self._unseen(value)
        return value, None

    def _unseen(self, value: str) -> tuple[str, str | None]:
        """A value the sample did not have: a variant of a known spelling, a typo of a
        frequent one, or a new category left as it is."""
        key = fingerprint(value)
        known = self.spellings.get(key)
        if known:
            best = known[0]
            if best == value:
                return value, None
            return best, "case" if best.lower() == value.lower() else "variant"
        if len(key) < 4 or key.isdigit():
            return value, None
        matches = sorted((Levenshtein.distance(key, other, score_cutoff=2), -count, other)
                         for other, (spelling, count) in self.spellings.items() if count >= 5)
        matches = [match for match in matches if match[0] <= typo_limit(key, match[2], bool(_LIST.search(value)))
                   and same_parts(value, self.spellings[match[2]][0])]
        if not matches or (len(matches) > 1 and matches[1][0] == matches[0][0] and -matches[1][1] * 5 > -matches[0][1]):
            return value, None
        return self.spellings[matches[0][2]][0], "typo"


def same_parts(one: str, other: str) -> bool:
    """A typo changes letters, not the number of items in a list ('UK,USA,France' is not a
    typo of 'USA,France')."""
    return len(_LIST.split(one)) == len(_LIST.split(other))


def _casing(value: str) -> str:
    if value.isupper() and len(value) > 1:
        return "upper"
    if value[:1].isupper():
        return "title"
    return "lower"


def _apply_casing(word: str, style: str) -> str:
    return word.upper() if style == "upper" else word.title() if style == "title" else word
