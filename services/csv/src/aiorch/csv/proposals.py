"""Which cells the dependencies repair, and why: the votes of the dependencies that speak
about a cell, weighed (dependencies.py finds them; this module reads them)."""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import values as v
from .dependencies import FILL_BLANKS, FINE, KEY_JOIN, REPAIR_SHARE, Dependency

BREAKER_MIN = 3  # times a value must break runs, never continuing one, to be doubted (run_breakers)


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
    basis: dict[tuple[int, str], list[tuple[float, tuple[str, ...], str]]] = defaultdict(list)
    active = [d for d in dependencies if d.groups]
    lefts = [keys(frame, d.lhs) for d in active]
    expectations = [left.map({key: majority for key, (majority, _, _) in d.groups.items()}) for d, left in zip(active, lefts, strict=True)]
    # Only a consistent group's backing keeps a value (a middling group that happens to hold
    # the old value is outvoted by a consistent one proposing another).
    backs = [left.map({key: n >= REPAIR_SHARE * size for key, (_, n, size) in d.groups.items()}).fillna(False).to_numpy(dtype=bool)
             for d, left in zip(active, lefts, strict=True)]
    # A magnet cell that a group says is out of place is the footprint of an error in its
    # column: as a left-hand value it puts the row in a group it does not belong to.
    magnets: dict[str, set[str]] = defaultdict(set)
    for dependency in active:
        magnets[dependency.rhs] |= dependency.magnets
    text = {column: frame[column].astype("string").str.strip() for column in {c for d in active for c in (*d.lhs, d.rhs)}}
    misplaced: dict[str, np.ndarray] = {}
    for dependency, expected in zip(active, expectations, strict=True):
        if dependency.magnets:
            rhs = text[dependency.rhs]
            # ... as judged from a group whose own key holds no magnet (else each of two
            # magnets in a row would discredit the other).
            clean_key = ~np.logical_or.reduce([text[c].isin(magnets[c]).fillna(False).to_numpy() for c in dependency.lhs])
            out = (rhs.isin(dependency.magnets) & expected.notna() & (rhs != expected)).fillna(False).to_numpy() & clean_key
            misplaced[dependency.rhs] = misplaced.get(dependency.rhs, False) | out
    for dependency, expected, lhs, backed in zip(active, expectations, lefts, backs, strict=True):
        rhs = text[dependency.rhs]
        doubtful_key = np.logical_or.reduce([misplaced.get(column, np.zeros(len(frame), dtype=bool)) for column in dependency.lhs])
        expected = expected.where(~doubtful_key)
        known = expected.notna()
        agree = (known & (rhs == expected)).fillna(False).to_numpy()
        keep[dependency.rhs] = keep.get(dependency.rhs, 0) + (agree & backed).astype(int)
        present = (rhs.notna() & ~rhs.str.lower().isin(v.MISSING_MARKERS).fillna(True)).fillna(False).to_numpy()
        differ = known.fillna(False).to_numpy() & present & ~agree
        # A blank cell is filled when the group is consistent, in a column where blanks are rare
        # (a gap, not a value the column may lack).
        if 0 < (~present).sum() <= FILL_BLANKS * len(frame):
            differ |= known.fillna(False).to_numpy() & ~present
        breakers = run_breakers(rhs, agree, differ & backed) if dependency.strict else set()
        explained: dict[tuple[str, str], bool] = {}
        for position in np.flatnonzero(differ):
            key, old = lhs.iloc[position], rhs.iloc[position]
            majority, n, size = dependency.groups[key]
            if not present[position]:
                if n >= REPAIR_SHARE * size and len(dependency.lhs) < 3:
                    basis[(position, dependency.rhs)].append((n / size, dependency.lhs, majority))
                    votes[(position, dependency.rhs)][majority].append(
                        f"blank; {dependency.left} {key.replace(KEY_JOIN, ' + ')} → {n} other rows say "
                        f"{majority!r} ({dependency.describe()})")
                continue
            suspicious = (bool(dependency.rhs in suspect and suspect[dependency.rhs][position]) or garbled(old, majority)
                          or old in breakers)
            doubtful = old in dependency.magnets or suspicious
            if n < REPAIR_SHARE * size and (not doubtful or dependency.strict) or dependency.suspect_only and not suspicious:
                continue
            if len(dependency.lhs) > 1 and any((i, part, old) in dependency.leads for i, part in enumerate(key.split(KEY_JOIN))):
                continue  # the old value fits the row if the other left-hand value were the wrong one
            # With one column on the left a magnet's rows are the error's footprint, however they
            # line up; a pair's groups are finer, and a value spread over them may be a real
            # second value of the group (another season's stadium) that another column tells apart.
            footprint = old in dependency.magnets and len(dependency.lhs) == 1
            if not footprint and (key, old) not in explained:
                explained[(key, old)] = _subgroup(frame, lhs, rhs, key, old, dependency, broad=old in dependency.magnets)
            if not footprint and explained[(key, old)]:
                continue
            basis[(position, dependency.rhs)].append((n / size, dependency.lhs, majority))
            votes[(position, dependency.rhs)][majority].append(
                f"{dependency.left} {key.replace(KEY_JOIN, ' + ')} → {n} other rows say {majority!r} "
                f"({dependency.describe()})")
    candidates = []
    for (position, column), by_value in votes.items():
        if len(by_value) != 1:
            # The dependencies disagree: only consistent groups (REPAIR_SHARE) speak then.
            strong = {value for share, _, value in basis[(position, column)] if share >= REPAIR_SHARE}
            if len(strong) != 1:
                continue
            by_value = {value: reasons for value, reasons in by_value.items() if value in strong}
            basis[(position, column)] = [entry for entry in basis[(position, column)] if entry[2] in strong]
        (value, reasons), = by_value.items()
        if len(reasons) > keep[column][position]:
            candidates.append((max(share for share, *_ in basis[(position, column)]), position, column, value, reasons))
    # Two cells of one row may each be the other's evidence (a wrong city puts the row in a
    # group that says its stadium is wrong): the more consistent group decides, and a cell
    # that was evidence for a repair is not repaired in the same pass.
    proposals = {}
    changed, evidence = set(), set()
    for _, position, column, value, reasons in sorted(candidates, key=lambda c: -c[0]):
        used = {(position, c) for _, lhs, _ in basis[(position, column)] for c in lhs}
        if (position, column) in evidence or used & changed:
            continue
        changed.add((position, column))
        evidence |= used
        proposals[(frame.index[position], column)] = Proposal(value, "; ".join(reasons[:2]))
    return proposals


def run_breakers(rhs: pd.Series, agree: np.ndarray, breaks: np.ndarray) -> set[str]:
    """Values that break a consistent run wherever they sit and never continue one (a `0` in a
    sweep of frequencies, 22 times, each time between 8000 and 12500 or the like): a filler
    an error wrote, however plausible its shape. A real value also sits inside runs."""
    broken = rhs[breaks].value_counts()
    fitting = rhs[agree].value_counts()
    return {value for value, count in broken.items() if count >= BREAKER_MIN and value not in fitting.index}


def garbled(old: str, majority: str) -> bool:
    """Whether `old` reads as `majority` garbled by a doubling error: every character doubled,
    and what is left some of the majority's characters in order (`3311` for 31.7, `77` for
    7.3). Such a cell is doubtful, whatever its shape."""
    if len(old) < 2 or len(old) % 2 or old[0::2] != old[1::2]:
        return False
    rest = iter(majority)
    return all(character in rest for character in old[0::2])


def _subgroup(frame: pd.DataFrame, lhs: pd.Series, rhs: pd.Series, key: str, old: str, dependency: Dependency,
              broad: bool = False) -> bool:
    """Whether the group's rows with `old` are a sub-population that another column tells
    apart (a team's stadium in the one season it played elsewhere): they all share a value of
    that column that none of the group's other rows has. One odd cell is never explained.
    `broad` (for a magnet): not when the rows are all one entity's (they share a value of a
    fine-grained column, a name): that is the footprint of an error that overwrote its rows."""
    in_group = (lhs == key).fillna(False).to_numpy()
    with_old = in_group & (rhs == old).fillna(False).to_numpy()
    if with_old.sum() < 2:
        return False
    rest = in_group & ~with_old
    others = [c for c in frame.columns if c != dependency.rhs and c not in dependency.lhs and "\x00" not in c]
    for column in others:
        values = frame[column].to_numpy()[with_old]
        if broad and (values == values[0]).all() and frame[column].nunique() >= FINE * len(frame):
            return False
    for column in others:
        values = frame[column].to_numpy()[with_old]
        if (values == values[0]).all() and not (frame[column].to_numpy()[rest] == values[0]).any():
            return True
    return False
