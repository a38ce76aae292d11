"""Approximate functional dependencies, found in the data with no labels, and the repairs
they give.

A -> B holds when rows that share a value of A almost always share a value of B (>= 95% of
the rows in repeated groups agree with their group's majority) and that is much more than
chance would give (B is not nearly constant). A cell that disagrees with a strong group of
an accepted dependency is repaired from the group's majority, unless another dependency
backs the cell's own value or proposes a different one: an error in A itself then shows as
a disagreement and is left alone. Pairs A1 + A2 -> B and triples A1 + A2 + A3 -> B are
searched for what one column does not explain (a triple repairs only cells that look
corrupted), and a blank cell a strong group determines is filled where blanks are rare.
Discovery runs on a bounded sample, so a file of any size
costs the same; the learned maps (A value -> B value) can then be applied batch by batch.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import values as v

SAMPLE_ROWS = 20_000
HOLDS = 0.9           # share of an A's groups consistent in B
ORDER_HOLDS = 0.8     # ... of the rows, for a dependency on row order (sequences.py): the rows
                      # where one run ends and the next begins are mixed by nature
BEYOND_CHANCE = 0.5   # ... above the share with B shuffled
MIN_GROUPS = 5
MIN_SUPPORT = 20      # rows in repeated groups, at least
GROUP_MIN = 3         # a group repairs only with this many rows agreeing
GROUP_SHARE = 0.8     # ... and this share of its rows (a consistent group)
REPAIR_SHARE = 0.85   # a group repairs a cell when this share of its rows agree,
WEAK_SHARE = 0.5      # ... or this share when the cell holds a magnet value (see Dependency)
PAIR_COLUMNS = 10     # pairs of columns on the left: among this many coarsest columns
PAIR_TESTS = 300      # ... at most this many tests
PAIR_GROUP_ROWS = 20  # ... whose groups hold this many rows on average
TRIPLE_COLUMNS = 8    # three columns on the left: among this many coarsest columns,
TRIPLE_TESTS = 200    # ... at most this many tests,
TRIPLE_GROUP_ROWS = 8   # ... groups of this many rows on average; such a dependency repairs
                        # only cells that look corrupted (see propose)
FILL_BLANKS = 0.05    # blanks are filled from a dependency only in columns with at most this share blank
MAGNET_USUAL = 2      # magnets only where a B value usually sits in one or two groups
BEHIND_MAGNET_MIN = 2  # rows that must agree on a group's one non-magnet value (see _behind_magnets)
FINE = 0.05           # a column with this share of distinct values names entities (see _subgroup)
KEY_JOIN = "\x1f"
FREE_TEXT_CHARS = 40  # mean length above which a column is free text
MAX_COLUMNS = 40      # pairs grow with the square; wider files use their first columns


@dataclass
class Dependency:
    lhs: tuple[str, ...]
    rhs: str
    agreement: float
    support: int
    groups: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    """A value -> (B majority, rows agreeing, rows in group) for the groups strong enough to repair."""
    magnets: set[str] = field(default_factory=set)
    """B values that sit in other values' groups more often than they lead one: the marks of
    an error that replaced many cells with one frequent value."""
    suspect_only: bool = False
    """Repairs only cells that look corrupted (a triple on the left, a row's neighbours)."""
    strict: bool = False
    """Repairs only from groups that hold REPAIR_SHARE of their rows, whatever the cell."""
    _leads: set | None = None

    @property
    def leads(self) -> set[tuple[int, str, str]]:
        """(position in the left side, its value, a B value it leads with some partner)."""
        if self._leads is None:
            self._leads = {(i, part, majority) for key, (majority, _, _) in self.groups.items()
                           for i, part in enumerate(key.split(KEY_JOIN))}
        return self._leads

    @property
    def left(self) -> str:
        """The left side as a reader sees it (derived columns are named with a \\x00)."""
        return " + ".join(column.replace("\x00", " (") + (")" if "\x00" in column else "") for column in self.lhs)

    def describe(self) -> str:
        return f"{self.left} → {self.rhs} ({self.agreement:.0%} of groups consistent, {self.support:,} rows)"


def _codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes with -1 for missing, unique values, counts per code)."""
    text = series.astype("string").str.strip()
    missing = text.isna() | text.str.lower().isin(v.MISSING_MARKERS)
    codes, uniques = pd.factorize(text.where(~missing))
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques)) if len(uniques) else np.zeros(0, dtype=int)
    return codes, np.asarray(uniques, dtype=object), counts


def _raw_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """_codes() of the cells as they are (no trimming): fast, for co-occurrence counts."""
    codes, uniques = pd.factorize(series)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques)) if len(uniques) else np.zeros(0, dtype=int)
    return codes, np.asarray(uniques, dtype=object), counts


def _combine(first, second) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of a pair of columns, as one column (missing when either is)."""
    a, a_values, _ = first
    b, b_values, _ = second
    both = (a >= 0) & (b >= 0)
    joined = np.where(both, a.astype(np.int64) * (len(b_values) + 1) + b, -1)
    codes, uniques = pd.factorize(joined)
    codes = np.where(joined >= 0, codes, -1)
    keep = uniques >= 0
    remap = np.cumsum(keep) - 1
    codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    uniques = uniques[keep]
    width = len(b_values) + 1
    labels = (pd.Series(a_values[uniques // width]).astype(str) + KEY_JOIN
              + pd.Series(b_values[uniques % width]).astype(str)).to_numpy(dtype=object)
    counts = np.bincount(codes[codes >= 0], minlength=len(labels))
    return codes, labels, counts


def _eligible(series: pd.Series, codes: np.ndarray, counts: np.ndarray) -> bool:
    """Whether a column may take part: not one value, not all-unique, not free text."""
    present = int((codes >= 0).sum())
    if present < MIN_SUPPORT or len(counts) < 2:
        return False
    if series[codes >= 0].astype(str).head(500).str.len().mean() > FREE_TEXT_CHARS:
        return False
    return int(counts[counts >= GROUP_MIN].sum()) >= 0.2 * present


def coded_head(frame: pd.DataFrame, sample_rows: int = SAMPLE_ROWS) -> dict[str, tuple]:
    """_codes() of each column's first `sample_rows` rows, shared by the searches that read them."""
    head = frame.head(sample_rows)
    return {column: _codes(head[column]) for column in head.columns}


def discover(frame: pd.DataFrame, sample_rows: int = SAMPLE_ROWS, coded: dict[str, tuple] | None = None) -> list[Dependency]:
    """`coded`: coded_head() of the frame, used when the frame is no larger than the sample."""
    sample = frame if len(frame) <= sample_rows else frame.sample(sample_rows, random_state=0)
    columns = list(sample.columns)[:MAX_COLUMNS]
    if coded is None or len(frame) > sample_rows:
        coded = {column: _codes(sample[column]) for column in columns}
    usable = [column for column in columns if _eligible(sample[column], coded[column][0], coded[column][2])]
    found = []
    for lhs in usable:
        for rhs in usable:
            if rhs != lhs:
                dependency = _test((lhs,), rhs, *coded[lhs], *coded[rhs])
                if dependency:
                    found.append(dependency)
    # Pairs of columns on the left, for what no single column explains (team + stadium -> city):
    # the coarsest columns first, a bounded number of tests.
    explained = {d.rhs for d in found}
    # B -> one of the pair: B's own value then speaks for that column, and a disagreement
    # cannot tell which of the two is wrong.
    speaks = {(d.lhs[0], d.rhs) for d in found}
    coarse = sorted((c for c in usable if len(coded[c][1]) <= 0.2 * len(sample)), key=lambda c: len(coded[c][1]))[:PAIR_COLUMNS]
    tests = 0
    for i, first in enumerate(coarse):
        for second in coarse[i + 1:]:
            pair = None
            for rhs in usable:
                if (rhs in (first, second) or rhs in explained or tests >= PAIR_TESTS
                        or (rhs, first) in speaks or (rhs, second) in speaks):
                    continue
                pair = pair or _combine(coded[first], coded[second])
                tests += 1
                dependency = _test((first, second), rhs, *pair, *coded[rhs])
                if dependency:
                    found.append(dependency)
    found += _triples(coarse[:TRIPLE_COLUMNS], usable, coded, {d.rhs for d in found})
    return found


def _triples(coarse: list[str], usable: list[str], coded: dict, explained: set[str]) -> list[Dependency]:
    """Three columns on the left, for what no single column or pair explains (a measurement
    fixed by three settings of a run): bounded tests, and groups that are runs of rows, not a
    near-key. B may determine the left columns in turn; the leads check in propose() and
    the rule that such a dependency only repairs suspect cells keep that safe."""
    targets = [rhs for rhs in usable if rhs not in explained]
    found: list[Dependency] = []
    tests = 0
    for i, first in enumerate(coarse):
        for j, second in enumerate(coarse[i + 1:], i + 1):
            if tests >= TRIPLE_TESTS or not targets:
                return found
            pair = None
            for third in coarse[j + 1:]:
                if not _runs(coded[first][0], coded[second][0], coded[third][0]):
                    continue
                triple = None
                for rhs in targets:
                    if rhs in (first, second, third) or tests >= TRIPLE_TESTS:
                        continue
                    pair = pair or _combine(coded[first], coded[second])
                    triple = triple or _combine(pair, coded[third])
                    tests += 1
                    dependency = _test((first, second, third), rhs, *triple, *coded[rhs])
                    if dependency:
                        dependency.suspect_only = True
                        found.append(dependency)
                targets = [rhs for rhs in targets if rhs not in {d.rhs for d in found}]  # one explains it
    return found


def _runs(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> bool:
    """Whether three columns' values group rows in runs (TRIPLE_GROUP_ROWS on average, over the
    groups of GROUP_MIN rows or more): a cheap check before the triple is built and tested."""
    present = (a >= 0) & (b >= 0) & (c >= 0)
    joined = (a[present].astype(np.int64) * (b.max() + 2) + b[present]) * (c.max() + 2) + c[present]
    sizes = np.unique(joined, return_counts=True)[1]
    sizes = sizes[sizes >= GROUP_MIN]
    return len(sizes) >= MIN_GROUPS and sizes.sum() >= TRIPLE_GROUP_ROWS * len(sizes)


def _majorities(a: np.ndarray, b: np.ndarray, width: int):
    """Per (group of A, value of B) entry, and which entries are their group's majority."""
    keys, counts = np.unique(a.astype(np.int64) * width + b, return_counts=True)
    group, value = keys // width, keys % width
    order = np.lexsort((-counts, group))  # per group, the most frequent value first
    first = np.ones(len(order), dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    best = order[first]
    sizes = np.bincount(group, weights=counts)[group[best]].astype(int)
    return group, value, counts, best, sizes


def _consistent(counts: np.ndarray, best: np.ndarray, sizes: np.ndarray, by_rows: bool = False) -> float:
    """Share of the groups (or of their rows) whose majority holds GROUP_SHARE of their rows."""
    if not len(best):
        return 0.0
    held = counts[best] >= GROUP_SHARE * sizes
    return float(sizes[held].sum() / sizes.sum()) if by_rows else float(held.mean())


def _test(lhs, rhs, a, a_values, a_counts, b, b_values, b_counts, by_rows: bool = False,
          group_rows: int | None = None, holds: float = HOLDS) -> Dependency | None:
    """A -> B holds when nearly every group of A (of three rows or more) is consistent in B,
    far more than when B is shuffled (a nearly constant B, or big groups, pass by chance). A
    group that is all over the place (the rows of a wrong shared value) does not sink it."""
    rows = (a >= 0) & (b >= 0)
    rows[rows] = a_counts[a[rows]] >= GROUP_MIN
    support = int(rows.sum())
    if support < MIN_SUPPORT:
        return None
    width = len(b_values)
    group, value, counts, best, sizes = _majorities(a[rows], b[rows], width)
    if group_rows is None:
        group_rows = 0 if len(lhs) == 1 else PAIR_GROUP_ROWS if len(lhs) == 2 else TRIPLE_GROUP_ROWS
    if len(best) < MIN_GROUPS or support < group_rows * len(best):
        return None  # a pair of columns that is nearly a key holds by its small groups alone
    consistent = _consistent(counts, best, sizes, by_rows)
    if consistent < holds:
        return None
    shuffled = np.random.default_rng(0).permutation(b[rows])
    if consistent - _consistent(*_majorities(a[rows], shuffled, width)[2:], by_rows) < BEYOND_CHANCE:
        return None
    minority = np.ones(len(counts), dtype=bool)
    minority[best] = False
    # A value spread over many more groups than values usually are, and out of place in some.
    stray = np.bincount(value[minority], minlength=width)
    spread = np.bincount(value, minlength=width)
    usual = np.median(spread[spread > 0])
    # Not with three columns on the left, whose groups also split on their own errors, nor on
    # row order, where only a cell's shape makes it doubtful.
    magnets = set() if usual > MAGNET_USUAL or len(lhs) > 2 or by_rows else {
        str(b_values[code]) for code in np.flatnonzero((stray >= 2) & (spread >= 3) & (spread >= 3 * usual))}
    share = counts[best] / sizes
    strong = (counts[best] >= GROUP_MIN) & (share >= WEAK_SHARE)
    groups = {str(a_values[g]): (str(b_values[m]), int(n), int(size))
              for g, m, n, size in zip(group[best][strong], value[best][strong], counts[best][strong], sizes[strong], strict=True)
              if str(b_values[m]) not in magnets}
    if magnets:
        groups.update(_behind_magnets(group, value, counts, best, b_values, a_values, magnets))
    return Dependency(tuple(lhs), rhs, consistent, support, groups, magnets)


def _behind_magnets(group, value, counts, best, b_values, a_values, magnets: set[str]) -> dict:
    """The groups a magnet has overrun: most of their rows hold magnets, and the rest agree on
    one other value (a player's surname in 6 rows, a frequent one pasted over 17 others). That
    value is the group's, counted on its own rows: the magnet rows are the error's footprint."""
    found = {}
    for g in np.flatnonzero(np.isin(b_values[value[best]].astype(str), list(magnets))):
        entries = np.flatnonzero(group == group[best][g])
        others = [e for e in entries if str(b_values[value[e]]) not in magnets]
        if len(others) == 1 and counts[others[0]] >= BEHIND_MAGNET_MIN:
            n = int(counts[others[0]])
            found[str(a_values[group[best][g]])] = (str(b_values[value[others[0]]]), n, n)
    return found


def learn_groups(frame: pd.DataFrame, dependencies: list[Dependency]) -> None:
    """Refit each dependency's groups on the whole frame (discovery may have used a sample)."""
    for dependency in dependencies:
        left = _codes(frame[dependency.lhs[0]])
        for column in dependency.lhs[1:]:
            left = _combine(left, _codes(frame[column]))
        # (strict ones, found on row order, are judged by rows: see sequences.discover)
        full = _test(dependency.lhs, dependency.rhs, *left, *_codes(frame[dependency.rhs]), by_rows=dependency.strict,
                     group_rows=TRIPLE_GROUP_ROWS if dependency.strict else None,
                     holds=ORDER_HOLDS if dependency.strict else HOLDS)
        dependency.groups = full.groups if full else {}
        dependency.magnets = full.magnets if full else set()


class CoOccurrence:
    """How often each value of a column occurs beside each value of the other columns, to
    ask whether the row's other columns contradict folding one value into another."""

    def __init__(self, frame: pd.DataFrame, column: str, cache: dict | None = None) -> None:
        cache = {} if cache is None else cache
        coded = {name: cache[name] if name in cache else cache.setdefault(name, _raw_codes(frame[name])) for name in frame.columns}
        self.target, values, _ = coded[column]
        self.index = {value: code for code, value in enumerate(values)}
        self.others = {}
        for other in frame.columns:
            if other == column:
                continue
            codes, _, counts = coded[other]
            if not len(counts) or counts.max() >= 0.5 * len(frame):
                continue  # a near-constant column says nothing about one row
            both = (codes >= 0) & (self.target >= 0)
            pairs = pd.Series(codes[both].astype(np.int64) * (len(values) + 1) + self.target[both]).value_counts()
            # Per value of the target: the value of this column that 80% of its rows (three or
            # more) share, if any.
            group, value, together, best, sizes = _majorities(self.target[both], codes[both], len(counts))
            held = (together[best] >= 3) & (together[best] >= 0.8 * sizes)
            sole = dict(zip(group[best][held].tolist(), value[best][held].tolist(), strict=True))
            self.others[other] = (codes, counts, pairs.to_dict(), len(values) + 1, sole)

    def contradicts(self, position: int, old: str, new: str) -> str | None:
        """`old` occurs again among the rows sharing one of this row's other values, `new` never;
        or all the rows with `new` share a value of another column that this row does not."""
        old_code, new_code = self.index.get(old), self.index.get(new)
        if old_code is None:
            return None
        for other, (codes, counts, pairs, width, sole) in self.others.items():
            key = codes[position]
            if key < 0:
                continue
            if new_code in sole and sole[new_code] != key and old_code not in sole:
                return f"{other}: every row with {new!r} has another {other}"
            if counts[key] < 3:
                continue
            with_old = pairs.get(key * width + old_code, 0)
            with_new = pairs.get(key * width + new_code, 0) if new_code is not None else 0
            if with_old >= 2 and with_new == 0:
                return f"{other}: other rows with this value say {old!r}, none {new!r}"
        return None
