"""The cleaning pipeline for a file that fits in memory: read, profile, repair, handle
missing values, deduplicate, validate, export. No NATS or HTTP here."""

import csv
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from aiorch.contracts import ChangeRecord, CleaningSpec, ColumnProfile, CsvOutput

from . import repairs
from . import values as v
from .columns import ColumnPlan
from .reader import Table, read_table
from .report import markdown

Progress = Callable[[float, str], None]
SAMPLE_CHANGES = 200
SAMPLE_FAILURES = 200
_PLAIN_NUMBER = re.compile(r"^[-+]?\d+(\.\d+)?$")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class CleanResult:
    output: CsvOutput
    cleaned_csv: bytes
    change_log_csv: bytes
    report: str


class ChangeLog:
    def __init__(self) -> None:
        self.rows: list[tuple[int, str, str | None, str | None, str, str]] = []

    def add(self, row: int, column: str, old: str | None, new: str | None, rule: str, evidence: str = "") -> None:
        self.rows.append((row, column, _text(old), _text(new), rule, evidence))

    def per_rule(self) -> dict[str, int]:
        return dict(Counter(rule for *_, rule, _ in self.rows).most_common())

    def records(self, limit: int) -> list[ChangeRecord]:
        return [ChangeRecord(row=r, column=c, old=o, new=n, rule=rule) for r, c, o, n, rule, _ in self.rows[:limit]]

    def to_csv(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["row", "column", "old", "new", "rule", "evidence"])
        for row, column, old, new, rule, evidence in self.rows:
            writer.writerow([row, column, neutralise(old), neutralise(new), rule, evidence])
        return buffer.getvalue().encode()


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


def neutralise(value: str | None) -> str:
    """Cells a spreadsheet would run as a formula get a leading quote; plain numbers stay."""
    value = _text(value)
    if value is None:
        return ""
    if value.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def fit_plans(frame: pd.DataFrame) -> dict[str, ColumnPlan]:
    plans = {}
    for column in frame.columns:
        counts: Counter[str] = Counter()
        for value, n in frame[column].value_counts(dropna=True).items():
            tidy = v.tidy(value)
            if tidy.lower() not in v.MISSING_MARKERS:
                counts[tidy] += n
        plans[column] = ColumnPlan.fit(column, counts, len(frame))
    return plans


def is_missing(series: pd.Series) -> pd.Series:
    """Empty cells and missing-value markers (N/A, null, -, ...)."""
    return series.isna() | series.astype(str).str.strip().str.lower().isin(v.MISSING_MARKERS)


def profile(frame: pd.DataFrame, plans: dict[str, ColumnPlan]) -> list[ColumnProfile]:
    result = []
    for column in frame.columns:
        series = frame[column]
        present = series[~is_missing(series)]
        plan = plans.get(column) or ColumnPlan(column)
        result.append(ColumnProfile(
            name=column, inferred_type=plan.kind, missing=int(len(series) - len(present)),
            unique=int(present.nunique()), examples=[str(x)[:60] for x in present.value_counts().index[:3]],
            issues=list(plan.issues),
        ))
    return result


def repair(frame: pd.DataFrame, plans: dict[str, ColumnPlan], spec: CleaningSpec, log: ChangeLog) -> pd.DataFrame:
    cleaned = {}
    for column in frame.columns:
        plan = plans[column]
        if not spec.fold_categories:
            plan.canonical = {}
        if not spec.fix_formats:
            plan.kind = "text"
        series = frame[column]
        mapping = {raw: plan.clean(raw) for raw in series.dropna().unique()}
        new = series.map(lambda raw: mapping[raw][0] if raw in mapping else raw)
        changed = [raw for raw, (_, rule) in mapping.items() if rule]
        if changed:
            for row, raw in series[series.isin(changed)].items():
                value, rule = mapping[raw]
                log.add(int(row), column, raw, value, rule)
        cleaned[column] = new
    return pd.DataFrame(cleaned, index=frame.index)


def handle_missing(frame: pd.DataFrame, plans: dict[str, ColumnPlan], spec: CleaningSpec, log: ChangeLog) -> pd.DataFrame:
    if spec.drop_columns_missing_over is not None:
        for column in list(frame.columns):
            share = is_missing(frame[column]).mean()
            if share > spec.drop_columns_missing_over:
                frame = frame.drop(columns=[column])
                log.add(0, column, f"{share:.0%} missing", None, "drop_column")
    dropped = pd.Series(False, index=frame.index)
    if spec.drop_rows_missing:
        columns = list(frame.columns) if "*" in spec.drop_rows_missing else [c for c in spec.drop_rows_missing if c in frame]
        for column in columns:
            dropped |= is_missing(frame[column])
    if spec.drop_rows_missing_over is not None:
        share = pd.concat([is_missing(frame[c]) for c in frame.columns], axis=1).mean(axis=1)
        dropped |= share > spec.drop_rows_missing_over
    for row in frame.index[dropped]:
        log.add(int(row), "*", None, None, "drop_row_missing")
    frame = frame[~dropped]
    for rule in spec.fill:
        columns = [rule.column] if rule.column else list(frame.columns)
        for column in columns:
            if column not in frame:
                continue
            frame = _fill(frame, column, rule.strategy, rule.value, plans.get(column), log, explicit=rule.column is not None)
    return frame


def _fill(frame, column, strategy, constant, plan, log, explicit):
    series = frame[column]
    missing = is_missing(series)
    if not missing.any():
        return frame
    numeric = plan is not None and plan.kind == "number"
    if strategy in ("median", "mean") and not numeric:
        if explicit:
            log.add(0, column, None, None, f"fill_{strategy}_skipped_not_numeric")
        return frame
    present = series[~missing]
    if strategy == "median":
        value = _number_text(pd.to_numeric(present, errors="coerce").median())
    elif strategy == "mean":
        value = _number_text(round(pd.to_numeric(present, errors="coerce").mean(), 6))
    elif strategy == "mode":
        value = present.mode().iloc[0] if len(present) else None
    elif strategy == "constant":
        value = constant
    else:
        filled = series.where(~missing).ffill() if strategy == "ffill" else series.where(~missing).bfill()
        for row in series.index[missing & filled.notna()]:
            log.add(int(row), column, series[row], filled[row], f"fill_{strategy}")
        frame = frame.copy()
        frame[column] = series.where(~missing, filled)
        return frame
    if value is None:
        return frame
    for row in series.index[missing]:
        log.add(int(row), column, series[row], value, f"fill_{strategy}")
    frame = frame.copy()
    frame[column] = series.where(~missing, value)
    return frame


def _number_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def remove_rows(frame: pd.DataFrame, plans: dict[str, ColumnPlan], spec: CleaningSpec, log: ChangeLog) -> pd.DataFrame:
    for rule in spec.remove_rows:
        if rule.column not in frame:
            continue
        series = frame[rule.column]
        if rule.op == "missing":
            mask = is_missing(series)
        elif rule.op == "invalid":
            plan = plans.get(rule.column)
            mask = pd.to_numeric(series, errors="coerce").isna() & ~is_missing(series) if plan and plan.kind == "number" else pd.Series(False, index=frame.index)
        else:
            number = pd.to_numeric(rule.value, errors="coerce")
            left = pd.to_numeric(series, errors="coerce") if number == number else series
            right = number if number == number else rule.value
            mask = {"<": left.__lt__, "<=": left.__le__, ">": left.__gt__, ">=": left.__ge__, "==": left.__eq__, "!=": left.__ne__}[rule.op](right).fillna(False).astype(bool)
        for row in frame.index[mask]:
            log.add(int(row), rule.column, series[row], None, f"removed: {rule.column} {rule.op} {rule.value or ''}".strip())
        frame = frame[~mask]
    return frame


def deduplicate(frame: pd.DataFrame, spec: CleaningSpec, raw: pd.DataFrame, log: ChangeLog) -> tuple[pd.DataFrame, int]:
    if not spec.deduplicate:
        return frame, 0
    keys = [key for key in spec.dedupe_keys if key in frame] or None
    normalised = (frame[keys] if keys else frame).astype(str)
    duplicated = normalised.duplicated(keep="first")
    if not duplicated.any():
        return frame, 0
    # The first row of each group of equal rows: what a duplicate is reported as a copy of.
    first_row = normalised.groupby(list(normalised.columns), sort=False, dropna=False).ngroup()
    first_of_group = pd.Series(first_row.index, index=first_row.index).groupby(first_row.to_numpy()).transform("first")
    raw_seen = pd.util.hash_pandas_object(raw.loc[frame.index].astype(str), index=False)
    for row in frame.index[duplicated]:
        original = first_of_group[row]
        if keys:
            rule = "duplicate_key"
        elif raw_seen[row] == raw_seen[original]:
            rule = "duplicate_row"
        else:
            rule = "duplicate_row_normalised"
        log.add(int(row), "*", f"same as row {original}", None, rule)
    return frame[~duplicated], int(duplicated.sum())


def to_csv(frame: pd.DataFrame, delimiter: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow([neutralise(column) for column in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow([neutralise(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def missing_counts(frame: pd.DataFrame) -> dict[str, int]:
    return {column: int(is_missing(frame[column]).sum()) for column in frame.columns}


def clean_table(table: Table, name: str, spec: CleaningSpec, progress: Progress | None = None) -> CleanResult:
    raw = table.frame
    raw.index = range(1, len(raw) + 1)
    log = ChangeLog()
    plans = fit_plans(raw)
    before = profile(raw, plans)
    if progress:
        progress(0.3, "profiled; repairing values")
    frame = repair(raw, plans, spec, log)
    beyond = repairs.run(raw, frame, plans, spec, log)
    frame = remove_rows(beyond.frame, plans, spec, log)
    frame = handle_missing(frame, plans, spec, log)
    frame, duplicates = deduplicate(frame, spec, raw, log)
    if progress:
        progress(0.7, "repaired; validating")
    after_plans = fit_plans(frame)
    for column, plan in after_plans.items():
        plan.issues = []
    from .validation import validate  # pandera is slow to import; only this path needs it

    failures = validate(frame, {c: plans[c] for c in frame.columns}, spec)
    failures += repairs.in_output(beyond.flagged, frame.index)
    after = profile(frame, after_plans)
    output = CsvOutput(
        source=name, encoding=table.encoding, delimiter=table.delimiter, has_header=table.has_header,
        rows_before=len(raw), rows_after=len(frame), columns_before=list(raw.columns), columns_after=list(frame.columns),
        profile_before=before, profile_after=after, missing_before=missing_counts(raw), missing_after=missing_counts(frame),
        changes_per_rule=log.per_rule(), change_count=len(log.rows), changes_sample=log.records(SAMPLE_CHANGES),
        duplicates_removed=duplicates, ragged_rows=table.ragged[:100], validation_failures=len(failures),
        validation=failures[:SAMPLE_FAILURES], spec=spec,
    )
    return CleanResult(output, to_csv(frame, table.delimiter), log.to_csv(), markdown(output, table.notes + beyond.notes))


def clean_bytes(data: bytes, name: str, spec: CleaningSpec, progress: Progress | None = None) -> CleanResult:
    return clean_table(read_table(data, name), name, spec, progress)
