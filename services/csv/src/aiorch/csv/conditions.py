"""Dependencies on whether a number is zero: `child exemption ≠ 0 → has child = Y` holds on
98% of the rows where the exemption is not zero, though the exemption's values (many, each
in few rows) and the zero rows (either answer) give no ordinary dependency. One side of the
split must settle a category column almost always, far more often than the column's values
do overall; the rows on that side that disagree are then repaired like any dependency's.
"""

import numpy as np
import pandas as pd

from .dependencies import Dependency, _eligible

ZERO = "\x00is zero"   # derived column name; \x00 keeps it off real names
SIDE_ROWS = 100        # rows on the side that decides, at least
SIDE_SHARE = 0.97      # ... agreeing on one value
ABOVE_BASE = 0.3       # ... this much more often than the value's share of the whole column
MAX_VALUES = 10        # the settled column is a category of at most this many values
ZERO_SHARE = (0.1, 0.9)  # the number column is zero on between this share of its rows


def zero_sides(frame: pd.DataFrame, column: str) -> pd.Series:
    """'0' where the column's number is zero, '≠0' where it is another number, else missing."""
    numbers = pd.to_numeric(frame[column].astype("string").str.strip(), errors="coerce").astype(float).to_numpy()
    return pd.Series(np.where(np.isnan(numbers), None, np.where(numbers == 0, "0", "≠0")), index=frame.index, dtype="string")


def discover(frame: pd.DataFrame, numbers: list[str], sample_rows: int, coded: dict[str, tuple]) -> list[Dependency]:
    """On the first `sample_rows` rows; `coded`: their codes (dependencies.coded_head)."""
    sample = frame.head(sample_rows)
    targets = {}
    for column in sample.columns:
        codes, uniques, counts = coded[column]
        if 2 <= len(uniques) <= MAX_VALUES and _eligible(sample[column], codes, counts):
            text = pd.Series(np.asarray(uniques, dtype=object)[codes], index=sample.index, dtype="string").where(codes >= 0)
            targets[column] = (text, text.value_counts(normalize=True))
    found = []
    for number in numbers:
        sides = zero_sides(sample, number)
        zero = (sides == "0").sum() / max(sides.notna().sum(), 1)
        if not ZERO_SHARE[0] <= zero <= ZERO_SHARE[1]:
            continue
        for target, (text, overall) in targets.items():
            if target == number:
                continue
            for side in ("0", "≠0"):
                rows = text[(sides == side).fillna(False)].dropna()
                if len(rows) < SIDE_ROWS:
                    continue
                counts = rows.value_counts()
                majority, n = str(counts.index[0]), int(counts.iloc[0])
                if n >= SIDE_SHARE * len(rows) and n / len(rows) - overall[majority] >= ABOVE_BASE:
                    found.append(Dependency((number + ZERO,), target, n / len(rows), len(rows),
                                            {side: (majority, n, len(rows))}, strict=True))
    return found


def augment(frame: pd.DataFrame, dependencies: list[Dependency]) -> pd.DataFrame:
    """The frame with the zero/non-zero columns the dependencies read."""
    columns = {d.lhs[0][: -len(ZERO)] for d in dependencies if d.lhs[0].endswith(ZERO)}
    return frame.assign(**{column + ZERO: zero_sides(frame, column) for column in columns}) if columns else frame
