"""Repairs that look beyond one cell, run after the per-column rules: corrupted tokens,
values misplaced into a neighbouring column, dependency repairs, and the veto of typo folds
that the row's other columns contradict. Each family can be turned off in the spec."""

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aiorch.contracts import CleaningSpec, ValidationFailure

from . import conditions, sequences
from . import values as v
from .columns import ColumnPlan
from .dependencies import CoOccurrence, Dependency, coded_head, discover, learn_groups
from .proposals import propose
from .tokens import TokenPlan, signatures

TOKEN_KINDS = ("number", "category", "text")
MAX_TOKEN_CHARS = 30  # longer values are prose, where odd punctuation is normal
SCALE_ORDERS = 2      # a number this many orders of magnitude off its column's usual range is suspect


def in_output(flagged: list[ValidationFailure], kept: pd.Index) -> list[ValidationFailure]:
    """Failures found on input rows, renumbered as rows of the cleaned file (as validation
    numbers them); those on rows removed since (duplicates, filters) are dropped."""
    position = pd.Series(np.arange(1, len(kept) + 1), index=kept)
    return [failure.model_copy(update={"row": int(position[failure.row])}) for failure in flagged
            if failure.row in position.index]


def enabled(spec: CleaningSpec, family: str) -> bool:
    """`params.spec` may carry {"repair_dependencies": false, ...} (aiorch.contracts.CleaningSpec)."""
    return bool(getattr(spec, family, True))


@dataclass
class Outcome:
    frame: pd.DataFrame
    dependencies: list[Dependency] = field(default_factory=list)
    flagged: list[ValidationFailure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _present(series: pd.Series) -> Counter:
    """How often each non-missing value occurs, trimmed."""
    counts = series.value_counts(dropna=True)
    if counts.empty:
        return Counter()
    text = counts.index.astype(str).str.strip()
    keep = (text != "") & ~text.str.lower().isin(v.MISSING_MARKERS)
    return Counter(pd.Series(counts.to_numpy()[keep], index=text[keep]).groupby(level=0).sum().astype(int).to_dict())


class Profiles:
    """Value counts and token plans per column, computed once for the steps that need them."""

    def __init__(self, frame: pd.DataFrame, plans: dict[str, ColumnPlan], skip: frozenset[str] = frozenset()) -> None:
        """`skip`: columns not to examine (near-keys of a streamed file: no value repeats to repair from)."""
        self.frame, self.plans, self.skip = frame, plans, skip
        self._counts: dict[str, Counter] = {}
        self._tokens: dict[str, TokenPlan | None] = {}

    def counts(self, column: str) -> Counter:
        if column not in self._counts:
            self._counts[column] = Counter() if column in self.skip else _present(self.frame[column])
        return self._counts[column]

    def tokens(self, column: str) -> TokenPlan | None:
        """The column's token plan, or None where shapes mean nothing (prose, dates, few rows)."""
        if column not in self._tokens:
            plan, counts = self.plans.get(column), self.counts(column)
            total = sum(counts.values())
            fit = (plan is not None and plan.kind in TOKEN_KINDS and total >= 20 and column not in self.skip
                   and sum(len(x) * n for x, n in counts.items()) / total <= MAX_TOKEN_CHARS)
            self._tokens[column] = TokenPlan.fit(counts) if fit else None
        return self._tokens[column]


def repair_tokens(frame: pd.DataFrame, profiles: Profiles, log, flagged: list[ValidationFailure]) -> pd.DataFrame:
    for column in frame.columns:
        tokens = profiles.tokens(column)
        if tokens is None:
            continue
        fixes: dict[str, tuple[str | None, str]] = {}
        for value in tokens.outliers():
            new, why = tokens.check(value)
            if why:
                fixes[value] = (new, why)
        if not fixes:
            continue
        series = frame[column]
        stripped = series.astype("string").str.strip()
        new_series = series.copy()
        for row in frame.index[stripped.isin(list(fixes)).fillna(False).to_numpy()]:
            old = stripped[row]
            new, why = fixes[old]
            if new is None:
                flagged.append(ValidationFailure(row=int(row), column=column, check=f"looks corrupted ({why}; left)", value=old))
            else:
                new_series[row] = new
                log.add(int(row), column, series[row], new, "token", why)
        frame = frame.assign(**{column: new_series})
    return frame


def split_misplaced(raw: pd.DataFrame, frame: pd.DataFrame, profiles: Profiles, log) -> pd.DataFrame:
    """`San Francisco CA` in city with state empty: the trailing word is a frequent short value
    of the empty cell's column and what is left is a known value of this one. Read from the
    raw cells, since a typo fold may already have dropped the word; the split replaces it."""
    # After the per-column rules a missing cell is None or empty.
    missing = {c: (frame[c].isna() | (frame[c] == "")).fillna(True).to_numpy().copy() for c in frame.columns}
    holes = [c for c in frame.columns if 0 < missing[c].sum() <= 0.2 * len(frame) and len(frame) >= 10]
    # Values that can carry another column's value are words: text and category columns,
    # split once each at their last space, on the rows where some column is empty.
    sources = [c for c in frame.columns if profiles.plans.get(c) and profiles.plans[c].kind in ("text", "category")]
    if not holes:
        return frame
    empty_somewhere = np.logical_or.reduce([missing[c] for c in holes])
    splits = {}
    for source in sources:
        text = raw[source][empty_somewhere & ~missing[source]].astype("string").str.strip().str.replace(r"\s+", " ", regex=True)
        text = text[text.str.contains(" ", regex=False).fillna(False)]
        if not text.empty:
            parts = text.str.rsplit(" ", n=1, expand=True)
            splits[source] = (text, parts[0].str.rstrip(" ,;"), parts[1])
    for target in holes:
        known = {value for value, n in profiles.counts(target).items() if n >= 3 and " " not in value and len(value) <= 12}
        if not known:
            continue
        for source, (text, head, tail) in splits.items():
            if source == target:
                continue
            hits = (tail.isin(known).fillna(False) & missing[target][frame.index.get_indexer(tail.index)]).to_numpy()
            if not hits.any():
                continue
            seen = profiles.counts(source)
            for row in tail.index[hits]:
                whole = text[row]
                if seen.get(head[row], 0) >= 2 and seen.get(whole, 0) <= 1 and missing[target][frame.index.get_loc(row)]:
                    log.rows[:] = [entry for entry in log.rows if entry[:2] != (row, source)]
                    log.add(int(row), source, raw.at[row, source], head[row], "misplaced", f"{tail[row]!r} is a {target} value")
                    log.add(int(row), target, frame.at[row, target], tail[row], "misplaced", f"split from {source} {whole!r}")
                    frame.at[row, source] = head[row]
                    frame.at[row, target] = tail[row]
                    missing[target][frame.index.get_loc(row)] = False
    return frame


def suspects(frame: pd.DataFrame, profiles: Profiles) -> dict[str, np.ndarray]:
    """Per column, the cells that look corrupted: a mark of corruption, a rare shape in a
    number or uniform column, not a number in a number column. They are left out when
    dependencies are learned, and a less consistent group may repair them."""
    found = {}
    for column in frame.columns:
        tokens = profiles.tokens(column)
        if tokens is None:
            continue
        number = profiles.plans[column].kind == "number"
        values = pd.Series(list(profiles.counts(column)), dtype="string")
        odd = signatures(values)
        # Shapes speak for numbers and for uniform columns; names and words vary in shape.
        if number or tokens.uniform:
            odd |= values.isin(tokens.outliers()).fillna(False)
        if number:
            unusual = ~values.str.fullmatch(r"-?\d+(?:\.\d+)?").fillna(False).to_numpy()
            odd[unusual] |= values[unusual].map(lambda value: v.split_number(value) is None).astype(bool)
            odd |= _off_scale(values, profiles.counts(column))
        odd_values = set(values[odd.to_numpy()])
        if odd_values:
            found[column] = frame[column].astype("string").str.strip().isin(odd_values).fillna(False).to_numpy()
    return found


def _off_scale(values: pd.Series, counts: Counter) -> pd.Series:
    """Numbers more than SCALE_ORDERS orders of magnitude outside the range of the middle half
    of the column's rows (`663377` among thicknesses of 0.002-0.05: digits that lost their point)."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float).abs().to_numpy()
    known = numbers > 0  # NaN compares False
    if known.sum() < 2:
        return pd.Series(False, index=values.index)
    scale = np.full(len(numbers), np.nan)
    scale[known] = np.log10(numbers[known])
    weights = np.array([counts[value] for value in values[known]], dtype=float)
    order = np.argsort(scale[known])
    cumulative = np.cumsum(weights[order]) / weights.sum()
    ranked = scale[known][order]
    low, high = ranked[np.searchsorted(cumulative, 0.25)], ranked[min(np.searchsorted(cumulative, 0.75), len(ranked) - 1)]
    outside = np.zeros(len(numbers), dtype=bool)
    outside[known] = (scale[known] < low - SCALE_ORDERS) | (scale[known] > high + SCALE_ORDERS)
    return pd.Series(outside, index=values.index)


def repair_dependencies(frame: pd.DataFrame, profiles: Profiles, log, sample_rows: int,
                        fitted: list[Dependency] | None = None) -> tuple[pd.DataFrame, list[Dependency]]:
    """`fitted`: dependencies (with their groups) learned on an earlier batch of the same file,
    applied as they are."""
    odd = suspects(frame, profiles)
    if fitted is not None:
        dependencies = fitted
    else:
        learn = frame.assign(**{column: frame[column].where(~mask) for column, mask in odd.items()}) if odd else frame
        coded = coded_head(learn, sample_rows)
        dependencies = discover(learn, sample_rows, coded)
        ordered = sequences.discover(learn, sample_rows, coded)
        if len(frame) > sample_rows:
            learn_groups(learn, dependencies)
            learn_groups(sequences.augment(learn, ordered), ordered)
        dependencies += ordered
        numbers = [column for column, plan in profiles.plans.items() if plan.kind == "number" and column in frame]
        dependencies += conditions.discover(learn, numbers, sample_rows, coded)
    proposals = propose(conditions.augment(sequences.augment(frame, dependencies), dependencies), dependencies, odd)
    if proposals:
        frame = frame.copy()
        for (row, column), proposal in sorted(proposals.items(), key=lambda item: (item[0][0], item[0][1])):
            log.add(int(row), column, frame.at[row, column], proposal.new, "dependency", proposal.evidence)
            frame.at[row, column] = proposal.new
    return frame, dependencies


def veto_folds(raw: pd.DataFrame, frame: pd.DataFrame, log) -> pd.DataFrame:
    """Undo typo folds that the row's other columns contradict (a rare valid value)."""
    folds = [index for index, entry in enumerate(log.rows) if entry[4] == "typo" and entry[2] is not None]
    if not folds:
        return frame
    codes: dict = {}
    tables: dict[str, CoOccurrence] = {}
    position = {label: n for n, label in enumerate(raw.index)}
    vetoed = []
    for index in folds:
        row, column, old, new = log.rows[index][:4]
        table = tables.get(column) or tables.setdefault(column, CoOccurrence(raw, column, codes))
        if table.contradicts(position[row], old, new):
            vetoed.append(index)
            frame.at[row, column] = v.tidy(old)
    for index in reversed(vetoed):
        del log.rows[index]
    return frame


def run(raw: pd.DataFrame, frame: pd.DataFrame, plans: dict[str, ColumnPlan], spec: CleaningSpec, log,
        sample_rows: int = 20_000, fitted: list[Dependency] | None = None, skip: frozenset[str] = frozenset()) -> Outcome:
    """`fitted`: for the later batches of a streamed file, the dependencies the first one found;
    `skip`: columns not to examine for tokens and misplaced values (see Profiles)."""
    outcome = Outcome(frame)
    if spec.fold_categories and enabled(spec, "repair_dependencies"):
        outcome.frame = veto_folds(raw, outcome.frame, log)
    # Counts are taken once, before the steps below change a few cells: close enough for
    # what they decide (candidates, shapes, known values).
    profiles = Profiles(outcome.frame, plans, skip)
    if enabled(spec, "repair_tokens"):
        outcome.frame = repair_tokens(outcome.frame, profiles, log, outcome.flagged)
    if enabled(spec, "split_misplaced"):
        outcome.frame = split_misplaced(raw, outcome.frame, profiles, log)
    if enabled(spec, "repair_dependencies"):
        outcome.frame, outcome.dependencies = repair_dependencies(outcome.frame, profiles, log, sample_rows, fitted)
        repaired = {(row, column) for row, column, *_ in log.rows}
        outcome.flagged = [f for f in outcome.flagged if (f.row, f.column) not in repaired]
        used = [d.describe() for d in outcome.dependencies if d.groups]
        outcome.notes.append("dependencies found: " + "; ".join(used[:8]) + (" …" if len(used) > 8 else "")
                             if used else "no dependency between columns was found (no dependency repairs)")
    return outcome
