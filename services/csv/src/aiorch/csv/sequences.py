"""Dependencies on row order. In a file of runs (a sweep of settings repeated for each
configuration, a measurement constant over a run) a cell's neighbours above and below
determine it: the rows around `22..` say 2000 and 3150, and every other row between those
two says 2500. Such a dependency is found like any other (dependencies._test, on the
neighbours' values as a pair of columns) and repairs only cells that look corrupted or are
blank: a plausible value that breaks the run (a one-row event in a series) is left alone.
"""

import numpy as np
import pandas as pd

from .dependencies import ORDER_HOLDS, TRIPLE_GROUP_ROWS, Dependency, _combine, _eligible, _test

ABOVE, BELOW = "\x00row above", "\x00row below"  # derived column names; \x00 keeps them off real names


def neighbours(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Per column, its values one row above and one row below (in file order)."""
    derived = {}
    for column in columns:
        text = frame[column].astype("string").str.strip()
        derived[column + ABOVE] = text.shift(1)
        derived[column + BELOW] = text.shift(-1)
    return pd.DataFrame(derived, index=frame.index)


def discover(frame: pd.DataFrame, sample_rows: int, coded: dict[str, tuple]) -> list[Dependency]:
    """(above, below) -> the column, for each column where that holds. Learned on the first
    rows (a contiguous block: a random sample would break the order); `coded`: their codes
    (dependencies.coded_head)."""
    head = frame.head(sample_rows)
    found = []
    for column in head.columns:
        target = coded[column]
        if not _eligible(head[column], target[0], target[2]):
            continue
        # The neighbours' codes are the column's own, shifted by a row (-1: no neighbour).
        codes, uniques, counts = target
        above = (np.concatenate([[-1], codes[:-1]]), uniques, counts)
        below = (np.concatenate([codes[1:], [-1]]), uniques, counts)
        pair = _combine(above, below)
        # Weighed by rows: the groups at the ends of runs (a last row beside a first) are many
        # and mixed, the groups inside runs few and large; only the consistent ones repair.
        # Groups as small as a triple's: a run of rows is no near-key.
        dependency = _test((column + ABOVE, column + BELOW), column, *pair, *target, by_rows=True,
                           group_rows=TRIPLE_GROUP_ROWS, holds=ORDER_HOLDS)
        if dependency:
            dependency.suspect_only = dependency.strict = True
            found.append(dependency)
    return found


def augment(frame: pd.DataFrame, dependencies: list[Dependency]) -> pd.DataFrame:
    """The frame with the neighbour columns the row-order dependencies read."""
    columns = [d.rhs for d in dependencies if d.lhs == (d.rhs + ABOVE, d.rhs + BELOW)]
    return frame.join(neighbours(frame, columns)) if columns else frame
