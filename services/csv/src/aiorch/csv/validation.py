"""Validation rules inferred from the data and stated in the instruction, run by pandera."""

import re

import pandas as pd
import pandera.pandas as pa

from aiorch.contracts import CleaningSpec, ValidationFailure

from . import values as v
from .columns import ColumnPlan

# Quantities that are never negative, by the column's name (as phone and postal code below).
NON_NEGATIVE = re.compile(r"\b(price|cost|fee|qty|quantity|age|weight|height|width|length|duration)s?\b|_(price|cost|qty)\b|^(price|cost|qty)_",
                          re.I)
NAME_PATTERNS = {
    "phone": (re.compile(r"phone|mobile|tel(ephone)?|fax", re.I), v.PHONE),
    "postal code": (re.compile(r"zip|postal|post ?code|postcode|plz", re.I), v.POSTAL),
}


def _matches(pattern: re.Pattern, name: str) -> pa.Check:
    return pa.Check(lambda s: s.isna() | s.astype(str).str.match(pattern.pattern, flags=pattern.flags), name=name)


def _is_date(series: pd.Series) -> pd.Series:
    """An ISO date (as the repair writes them) that exists: 2024-02-30 does not."""
    text = series.astype("string")
    day = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    return series.isna() | (text.str.match(r"^\d{4}-\d{2}-\d{2}").fillna(False) & day.notna())


def _as_number(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def build_schema(frame: pd.DataFrame, plans: dict[str, ColumnPlan], spec: CleaningSpec) -> pa.DataFrameSchema:
    columns: dict[str, pa.Column] = {}
    for name, plan in plans.items():
        if name not in frame.columns:
            continue
        checks: list[pa.Check] = []
        present = frame[name].dropna()
        if plan.kind == "number":
            checks.append(pa.Check(lambda s: _as_number(s).notna() | s.isna(), element_wise=False, name="is a number"))
            numbers = _as_number(present).dropna()
            if NON_NEGATIVE.search(name):
                checks.append(pa.Check(lambda s: ~(_as_number(s) < 0), name=f"not negative (a {name} cannot be)"))
            elif len(numbers) >= 10 and (numbers >= 0).mean() >= 0.95 and (numbers < 0).any():
                checks.append(pa.Check(lambda s: ~(_as_number(s) < 0), name="not negative (as 95% of the column)"))
        elif plan.kind == "date":
            checks.append(pa.Check(_is_date, name="is a date"))
        elif plan.kind in ("email", "url"):
            pattern = v.EMAIL if plan.kind == "email" else v.URL
            checks.append(_matches(pattern, "is an email" if plan.kind == "email" else "is a URL"))
        elif plan.kind == "category" and len(present) >= 30:
            counts = present.value_counts()
            domain = counts[counts >= 2].index.tolist()
            if len(domain) < len(counts):
                checks.append(pa.Check(lambda s, d=frozenset(domain): s.isna() | s.isin(d), name="one of the column's usual values"))
        for label, (name_pattern, value_pattern) in NAME_PATTERNS.items():
            if name_pattern.search(name) and plan.kind in ("text", "category", "number"):
                checks.append(_matches(value_pattern, f"is a {label}"))
        for rule in spec.ranges:
            if rule.column == name:
                low = float("-inf") if rule.min is None else rule.min
                high = float("inf") if rule.max is None else rule.max
                checks.append(pa.Check(
                    lambda s, lo=low, hi=high: _as_number(s).between(lo, hi) | s.isna(),
                    name=f"between {rule.min} and {rule.max} (as asked)"))
        if checks:
            columns[name] = pa.Column(None, checks=checks, nullable=True, required=False)
    return pa.DataFrameSchema(columns, strict=False)


def validate(frame: pd.DataFrame, plans: dict[str, ColumnPlan], spec: CleaningSpec) -> list[ValidationFailure]:
    schema = build_schema(frame, plans, spec)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        failures = []
        for case in cases.itertuples(index=False):
            index = case.index
            row = int(frame.index.get_loc(index)) + 1 if index is not None and index == index else None
            value = None if case.failure_case is None or case.failure_case != case.failure_case else str(case.failure_case)
            failures.append(ValidationFailure(row=row, column=case.column, check=str(case.check), value=value))
        return failures
    return []
