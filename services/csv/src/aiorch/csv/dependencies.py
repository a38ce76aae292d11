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

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import values as v

SAMPLE_ROWS = 20_000
HOLDS = 0.9           # share of an A's groups consistent in B
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
    _leads: set | None = None

    @property
    def leads(self) -> set[tuple[int, str, str]]:
        """(position in the left side, its value, a B value it leads with some partner)."""
        if self._leads is None:
            self._leads = {(i, part, majority) for key, (majority, _, _) in self.groups.items()
                           for i, part in enumerate(key.split(KEY_JOIN))}
        return self._leads

    def describe(self) -> str:
        return f"{' + '.join(self.lhs)} → {self.rhs} ({self.agreement:.0%} of groups consistent, {self.support:,} rows)"


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


def discover(frame: pd.DataFrame, sample_rows: int = SAMPLE_ROWS) -> list[Dependency]:
    sample = frame if len(frame) <= sample_rows else frame.sample(sample_rows, random_state=0)
    columns = list(sample.columns)[:MAX_COLUMNS]
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


def _consistent(counts: np.ndarray, best: np.ndarray, sizes: np.ndarray) -> float:
    """Share of the groups whose majority holds GROUP_SHARE of their rows."""
    return float((counts[best] >= GROUP_SHARE * sizes).mean()) if len(best) else 0.0


def _test(lhs, rhs, a, a_values, a_counts, b, b_values, b_counts) -> Dependency | None:
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
    if len(best) < MIN_GROUPS or len(lhs) > 1 and support < (PAIR_GROUP_ROWS if len(lhs) == 2 else TRIPLE_GROUP_ROWS) * len(best):
        return None  # a pair of columns that is nearly a key holds by its small groups alone
    consistent = _consistent(counts, best, sizes)
    if consistent < HOLDS:
        return None
    shuffled = np.random.default_rng(0).permutation(b[rows])
    if consistent - _consistent(*_majorities(a[rows], shuffled, width)[2:]) < BEYOND_CHANCE:
        return None
    minority = np.ones(len(counts), dtype=bool)
    minority[best] = False
    # A value spread over many more groups than values usually are, and out of place in some.
    stray = np.bincount(value[minority], minlength=width)
    spread = np.bincount(value, minlength=width)
    usual = np.median(spread[spread > 0])
    # Only with one column on the left: a pair's groups also split on the pair's own errors.
    magnets = set() if usual > MAGNET_USUAL or len(lhs) > 1 else {
        str(b_values[code]) for code in np.flatnonzero((stray >= 2) & (spread >= 3) & (spread >= 3 * usual))}
    share = counts[best] / sizes
    strong = (counts[best] >= GROUP_MIN) & (share >= WEAK_SHARE)
    groups = {str(a_values[g]): (str(b_values[m]), int(n), int(size))
              for g, m, n, size in zip(group[best][strong], value[best][strong], counts[best][strong], sizes[strong], strict=True)
              if str(b_values[m]) not in magnets}
    return Dependency(tuple(lhs), rhs, consistent, support, groups, magnets)


def learn_groups(frame: pd.DataFrame, dependencies: list[Dependency]) -> None:
    """Refit each dependency's groups on the whole frame (discovery may have used a sample)."""
    for dependency in dependencies:
        left = _codes(frame[dependency.lhs[0]])
        for column in dependency.lhs[1:]:
            left = _combine(left, _codes(frame[column]))
        full = _test(dependency.lhs, dependency.rhs, *left, *_codes(frame[dependency.rhs]))
        dependency.groups = full.groups if full else {}
        dependency.magnets = full.magnets if full else set()


def keys(frame: pd.DataFrame, lhs: tuple[str, ...]) -> pd.Series:
    parts = [frame[column].astype("string").str.strip() for column in lhs]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + KEY_JOIN + part
    return joined


@dataclass
class Proposal:
    new: str
    evidence: str


def propose(frame: pd.DataFrame, dependencies: list[Dependency],
            suspect: dict[str, np.ndarray] | None = None) -> dict[tuple[int, str], Proposal]:
    """Cells to repair: (row label, column) -> the value and why. A cell is repaired when the
    dependencies that speak about it agree on a new value, more of them than back the old one;
    a group of middling consistency repairs only a value that is a magnet or looks corrupted
    (`suspect`: per column, the cells whose shape is an outlier)."""
    suspect = suspect or {}
    votes: dict[tuple[int, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    keep: dict[str, np.ndarray] = {}
    for dependency in dependencies:
        if not dependency.groups:
            continue
        lhs = keys(frame, dependency.lhs)
        rhs = frame[dependency.rhs].astype("string").str.strip()
        expected = lhs.map({key: majority for key, (majority, _, _) in dependency.groups.items()})
        known = expected.notna()
        agree = (known & (rhs == expected)).fillna(False).to_numpy()
        keep[dependency.rhs] = keep.get(dependency.rhs, 0) + agree.astype(int)
        present = (rhs.notna() & ~rhs.str.lower().isin(v.MISSING_MARKERS).fillna(True)).fillna(False).to_numpy()
        differ = known.fillna(False).to_numpy() & present & ~agree
        # A blank cell is filled when the group is consistent, in a column where blanks are rare
        # (a gap, not a value the column may lack).
        if 0 < (~present).sum() <= FILL_BLANKS * len(frame):
            differ |= known.fillna(False).to_numpy() & ~present
        explained: dict[tuple[str, str], bool] = {}
        for position in np.flatnonzero(differ):
            key, old = lhs.iloc[position], rhs.iloc[position]
            majority, n, size = dependency.groups[key]
            if not present[position]:
                if n >= REPAIR_SHARE * size and len(dependency.lhs) < 3:
                    votes[(position, dependency.rhs)][majority].append(
                        f"blank; {' + '.join(dependency.lhs)} {key.replace(KEY_JOIN, ' + ')} → {n} other rows say "
                        f"{majority!r} ({dependency.describe()})")
                continue
            doubtful = old in dependency.magnets or (dependency.rhs in suspect and suspect[dependency.rhs][position])
            if n < REPAIR_SHARE * size and not doubtful or len(dependency.lhs) > 2 and not doubtful:
                continue
            if len(dependency.lhs) > 1 and any((i, part, old) in dependency.leads for i, part in enumerate(key.split(KEY_JOIN))):
                continue  # the old value fits the row if the other left-hand value were the wrong one
            if old in dependency.magnets:
                pass  # a magnet's rows are the error's footprint, however they line up
            elif (key, old) not in explained:
                explained[(key, old)] = _subgroup(frame, lhs, rhs, key, old, dependency)
            if old not in dependency.magnets and explained[(key, old)]:
                continue
            votes[(position, dependency.rhs)][majority].append(
                f"{' + '.join(dependency.lhs)} {key.replace(KEY_JOIN, ' + ')} → {n} other rows say {majority!r} "
                f"({dependency.describe()})")
    proposals = {}
    for (position, column), by_value in votes.items():
        if len(by_value) != 1:
            continue  # the dependencies disagree on what the value should be
        (value, reasons), = by_value.items()
        if len(reasons) > keep[column][position]:
            proposals[(frame.index[position], column)] = Proposal(value, "; ".join(reasons[:2]))
    return proposals


def _subgroup(frame: pd.DataFrame, lhs: pd.Series, rhs: pd.Series, key: str, old: str, dependency: Dependency) -> bool:
    """Whether the group's rows with `old` are a sub-population that another column tells
    apart (a team's stadium in the one season it played elsewhere): they all share a value of
    that column that none of the group's other rows has. One odd cell is never explained."""
    in_group = (lhs == key).fillna(False).to_numpy()
    with_old = in_group & (rhs == old).fillna(False).to_numpy()
    if with_old.sum() < 2:
        return False
    rest = in_group & ~with_old
    for column in frame.columns:
        if column == dependency.rhs or column in dependency.lhs:
            continue
        values = frame[column].to_numpy()[with_old]
        if (values == values[0]).all() and not (frame[column].to_numpy()[rest] == values[0]).any():
            return True
    return False


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
