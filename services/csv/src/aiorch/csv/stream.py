"""Files too large for memory: cleaned in batches, read and written by Arrow's CSV engine.

Column rules are learned from the first rows; every batch is then checked with vectorised
(Arrow) string kernels, only the cells that may change are cleaned (each distinct value
once), rows are deduplicated against 64-bit hashes of the rows seen so far, and the batch
is appended to the output. Median/mean fills use the first batch's statistics and
validation runs on the first batch; the report says so.
"""

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pandas._libs.hashtable import Int64HashTable

from aiorch.contracts import ChangeRecord, CleaningSpec, CsvOutput, RaggedRow, ValidationFailure

from . import repairs
from . import values as v
from .cleaner import _PLAIN_NUMBER, FORMULA_START, ChangeLog, fit_plans, handle_missing, profile, remove_rows
from .columns import ColumnPlan
from .errors import CsvProblem
from .reader import MAX_FIELD_CHARS, decode, looks_like_header, sniff_delimiter
from .report import markdown

Progress = Callable[[float, str], None]
FIT_ROWS = 20_000
CACHE_LIMIT = 100_000
SAMPLE_CHANGES = 200
_MARKERS = sorted(v.MISSING_MARKERS - {""})
LOG_COLUMNS = ["row", "column", "old", "new", "rule", "evidence"]
NEAR_KEY = 0.5  # a column with more distinct values than this share of a batch's rows is not profiled for repairs


def sniff(path: Path, name: str) -> tuple[str, str, bool, list[str]]:
    with path.open("rb") as source:
        sample = source.read(1024 * 1024)
    cut = sample.rfind(b"\n")
    text, encoding, _ = decode(sample[: cut if cut > 0 else len(sample)], name)
    delimiter = sniff_delimiter(text)
    csv.field_size_limit(MAX_FIELD_CHARS)
    try:
        rows = list(csv.reader(text.splitlines()[:50], delimiter=delimiter))
    except csv.Error as exc:
        raise CsvProblem("unreadable_csv", f"{name}: {exc}") from None
    if not rows:
        raise CsvProblem("empty_file", f"{name} is empty")
    has_header = looks_like_header(rows[0], rows[1:])
    header = [cell.strip() for cell in rows[0]] if has_header else [f"column_{i + 1}" for i in range(len(rows[0]))]
    if has_header and len(rows) < 2 and len(text.splitlines()) < 2:
        raise CsvProblem("no_rows", f"{name} has a header but no data rows")
    return {"utf-8-sig": "utf-8", "windows-1252": "cp1252"}.get(encoding, encoding), delimiter, has_header, header


_TIDY = r"[^\s\x{a0}](?:[^\x{a0}]*[^\s\x{a0}])?"
_SAFE_PATTERNS = {
    "number": r"-?\d+(?:\.\d+)?",
    "date": r"\d{4}-\d{2}-\d{2}",
    "datetime": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}",
    "email": r"[^A-Z\s\x{a0}]+@[^A-Z\s\x{a0}]+",
}


def safe_mask(series: pd.Series, plan: ColumnPlan) -> pd.Series:
    """Cells ColumnPlan.clean would leave as they are, found with one or two vectorised
    (Arrow) kernels per column."""
    empty = series == ""
    if plan.kind == "boolean":
        return series.isin(list(plan.boolean_words)) | empty
    if plan.kind == "category" and plan.spellings:
        return series.isin([spelling for spelling, _ in plan.spellings.values()]) | empty
    kind = "datetime" if plan.kind == "date" and plan.with_time else plan.kind
    if kind in _SAFE_PATTERNS:
        return (series.str.fullmatch(_SAFE_PATTERNS[kind]) | empty).fillna(True)
    safe = series.str.fullmatch(_TIDY) & ~series.str.contains("  ", regex=False) & ~series.str.lower().isin(_MARKERS)
    return (safe | empty).fillna(True)


class Cleaner:
    """State carried from batch to batch: rules, caches, hashes, counters."""

    def __init__(self, spec: CleaningSpec) -> None:
        self.spec = spec
        self.plans: dict[str, ColumnPlan] | None = None
        self.cache: dict[str, dict[str, tuple[str | None, str | None]]] = {}
        # pandas' C hash table (khash): vectorised inserts and lookups of 64-bit row hashes.
        self.seen = Int64HashTable()
        self.rows_before = self.rows_after = self.duplicates = 0
        self.missing_before: Counter[str] = Counter()
        self.missing_after: Counter[str] = Counter()
        self.per_rule: Counter[str] = Counter()
        self.sample_changes: list[ChangeRecord] = []
        self.dependencies: list | None = None
        self.near_keys: frozenset[str] | None = None
        self.notes: list[str] = []
        self.flagged: list[ValidationFailure] = []
        self.flagged_count = 0

    def batch(self, chunk: pd.DataFrame) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
        chunk.index = pd.RangeIndex(self.rows_before + 1, self.rows_before + len(chunk) + 1)
        self.rows_before += len(chunk)
        if self.plans is None:
            self.plans = fit_plans(chunk.head(FIT_ROWS))
        logs = []
        repaired = {}
        for column in chunk.columns:
            new, log = self._column(column, chunk[column])
            repaired[column] = new
            if log is not None:
                logs.append(log)
        frame = pd.DataFrame(repaired, index=chunk.index)
        frame, logs, flagged = self._beyond(chunk, frame, logs)
        for column in frame.columns:
            self.missing_after[column] += int((frame[column].isna() | (frame[column] == "")).sum())
        extra = ChangeLog()
        frame = remove_rows(frame, self.plans, self.spec, extra)
        frame = handle_missing(frame, self.plans, self.spec, extra)
        if self.spec.deduplicate:
            frame = self._deduplicate(frame, extra)
        if extra.rows:
            logs.append(pd.DataFrame([entry for entry in extra.rows], columns=LOG_COLUMNS))
        # Rows of the cleaned file: this batch's rows follow the earlier batches' output.
        for failure in repairs.in_output(flagged, frame.index):
            self.flagged_count += 1
            if len(self.flagged) < SAMPLE_CHANGES:
                self.flagged.append(failure.model_copy(update={"row": failure.row + self.rows_after}))
        self.rows_after += len(frame)
        for log in logs:
            for rule, count in log["rule"].value_counts().items():
                self.per_rule[rule] += int(count)
            for record in log.head(max(SAMPLE_CHANGES - len(self.sample_changes), 0)).itertuples(index=False):
                self.sample_changes.append(ChangeRecord(
                    row=int(record.row), column=record.column, old=_text(record.old), new=_text(record.new), rule=record.rule))
        return frame, logs

    def _beyond(self, raw: pd.DataFrame, frame: pd.DataFrame,
                logs: list[pd.DataFrame]) -> tuple[pd.DataFrame, list[pd.DataFrame], list]:
        """The repairs that look beyond one cell (repairs.run), on this batch. Dependencies are
        found on the first batch (on a bounded sample) and their groups applied to the others;
        value counts, shapes and known values are each batch's own."""
        # The repairs read (and may undo) the typo folds and replace a cell's earlier entry when
        # they split a misplaced value: they get those entries; the others stay as they are.
        log = ChangeLog()
        for entry in logs:
            typos = entry[entry["rule"] == "typo"]
            log.rows += [(int(r), c, _text(o), _text(n), rule, "") for r, c, o, n, rule, *_ in typos.itertuples(index=False)]
        if self.near_keys is None:
            # Columns whose values hardly repeat (ids, amounts) have nothing to repair from and
            # cost the most to profile: decided once, on the first batch.
            self.near_keys = frozenset(c for c in frame.columns if frame[c].nunique() > NEAR_KEY * len(frame))
        outcome = repairs.run(raw, frame, self.plans, self.spec, log, fitted=self.dependencies, skip=self.near_keys)
        if self.dependencies is None:
            self.dependencies, self.notes = outcome.dependencies, outcome.notes
        replaced = {(row, column) for row, column, *_, rule, _ in log.rows if rule == "misplaced"}
        kept = []
        for entry in logs:
            keep = (entry["rule"] != "typo").to_numpy()
            if replaced:
                keep &= [(row, column) not in replaced for row, column in zip(entry["row"], entry["column"], strict=True)]
            kept.append(entry[keep])
        merged = [entry for entry in kept if len(entry)] + ([pd.DataFrame(log.rows, columns=LOG_COLUMNS)] if log.rows else [])
        return outcome.frame, merged, outcome.flagged

    def _column(self, column: str, series: pd.Series) -> tuple[pd.Series, pd.DataFrame | None]:
        plan = self.plans[column]
        if not self.spec.fold_categories:
            plan.canonical, plan.spellings = {}, {}
        known = self.cache.setdefault(column, {})
        suspects = series[~safe_mask(series, plan)]
        changes = {}
        for raw in suspects.unique():
            result = known.get(raw)
            if result is None:
                result = plan.clean(raw)
                if len(known) < CACHE_LIMIT:
                    known[raw] = result
            if result[1]:
                changes[raw] = result
        markers = [raw for raw, (_, rule) in changes.items() if rule == "missing_marker"]
        self.missing_before[column] += int((series == "").sum() + (series.isin(markers).sum() if markers else 0))
        if not changes:
            return series, None
        old = suspects[suspects.isin(list(changes))]
        new = old.map(lambda raw: changes[raw][0])
        log = pd.DataFrame({"row": old.index, "column": column, "old": old.to_numpy(), "new": new.to_numpy(),
                            "rule": old.map(lambda raw: changes[raw][1]).to_numpy(), "evidence": ""})
        result = series.copy()
        result[series.index.isin(old.index)] = new.to_numpy()
        return result, log

    def _deduplicate(self, frame: pd.DataFrame, log: ChangeLog) -> pd.DataFrame:
        """Drops rows seen before (in this batch or an earlier one), by a 64-bit hash of the row.
        Python's string hash is fixed within a process, which is all a run needs."""
        keys = [key for key in self.spec.dedupe_keys if key in frame] or list(frame.columns)
        columns = [pa.array(frame[key].fillna(""), type=pa.string()) for key in keys]
        joined = pc.binary_join_element_wise(*columns, "\x1f") if len(columns) > 1 else columns[0]
        hashes = np.fromiter(map(hash, joined.to_numpy(zero_copy_only=False)), dtype=np.int64, count=len(frame))
        duplicate = pd.Series(hashes).duplicated().to_numpy() | (self.seen.lookup(hashes) >= 0)
        self.seen.map_locations(hashes[~duplicate])
        rule = "duplicate_key" if self.spec.dedupe_keys else "duplicate_row"
        for row in frame.index[duplicate]:
            log.add(int(row), "*", "duplicate of an earlier row", None, rule)
        self.duplicates += int(duplicate.sum())
        return frame[~duplicate]


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Quote cells a spreadsheet would run as formulas (plain numbers stay as they are)."""
    for column in frame.columns:
        series = frame[column]
        if not pd.api.types.is_string_dtype(series):
            continue
        risky = series.str.startswith(FORMULA_START).fillna(False)
        if risky.any():
            risky &= ~series.str.fullmatch(_PLAIN_NUMBER.pattern).fillna(False)
            if risky.any():
                frame = frame.copy()
                frame[column] = series.where(~risky, "'" + series)
    return frame


def _open(source: Path, name: str, encoding: str, delimiter: str, has_header: bool, header: list[str],
          block_bytes: int, on_invalid_row) -> pacsv.CSVStreamingReader:
    return pacsv.open_csv(
        source,
        # One thread: Arrow then knows each bad row's number, and with quoted newlines allowed
        # it is no slower on two cores.
        read_options=pacsv.ReadOptions(block_size=block_bytes, encoding=encoding, use_threads=False,
                                       column_names=None if has_header else header),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid_row),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header}, strings_can_be_null=False,
                                             quoted_strings_can_be_null=False),
    )


def _batches(reader, name: str):
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise CsvProblem("unreadable_csv", f"{name}: {str(exc).splitlines()[0][:300]}") from None


def clean_file(
    source: Path, name: str, spec: CleaningSpec, cleaned_path: Path, log_path: Path,
    block_bytes: int = 16 * 1024 * 1024, progress: Progress | None = None,
) -> tuple[CsvOutput, str]:
    encoding, delimiter, has_header, header = sniff(source, name)
    ragged: list[RaggedRow] = []

    def on_invalid_row(row) -> str:
        if len(ragged) < 1000:
            ragged.append(RaggedRow(line=row.number or 0, fields=row.actual_columns, expected=row.expected_columns,
                                    handling="skipped (wrong number of fields)"))
        return "skip"

    try:
        reader = _open(source, name, encoding, delimiter, has_header, header, block_bytes, on_invalid_row)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise CsvProblem("unreadable_csv", f"{name}: {str(exc).splitlines()[0][:300]}") from None
    columns = [c.strip() for c in reader.schema.names]
    if len(set(columns)) != len(columns):
        raise CsvProblem("unreadable_csv", f"{name} has duplicate column names")
    cleaner = Cleaner(spec)
    total = source.stat().st_size
    before = after = None
    failures = []
    writer = log_writer = None
    log_schema = pa.schema([("row", pa.int64()), ("column", pa.string()), ("old", pa.string()), ("new", pa.string()),
                            ("rule", pa.string()), ("evidence", pa.string())])
    with cleaned_path.open("wb") as cleaned_sink, log_path.open("wb") as log_sink:
        for batch in _batches(reader, name):
            chunk = batch.to_pandas()
            chunk.columns = columns
            first = cleaner.plans is None
            frame, logs = cleaner.batch(chunk)
            if first:
                before = profile(chunk.head(FIT_ROWS), cleaner.plans)
                from .validation import validate

                failures = validate(frame.head(FIT_ROWS), {c: cleaner.plans[c] for c in frame.columns}, spec)
                after = profile(frame.head(FIT_ROWS), cleaner.plans)
            table = pa.Table.from_pandas(neutralise(frame), preserve_index=False)
            if writer is None:
                writer = pacsv.CSVWriter(cleaned_sink, table.schema, write_options=pacsv.WriteOptions(delimiter=delimiter))
                log_writer = pacsv.CSVWriter(log_sink, log_schema)
            writer.write_table(table)
            for log in logs:
                log = log.fillna("").astype({"row": "int64", **{c: "str" for c in LOG_COLUMNS[1:]}})
                log_writer.write_table(pa.Table.from_pandas(neutralise(log), schema=log_schema, preserve_index=False))
            if progress:
                progress(min(cleaner.rows_before * 100 / max(total, 1) / 100, 0.99), f"{cleaner.rows_before:,} rows cleaned")
        if writer is not None:
            writer.close()
            log_writer.close()
    if cleaner.plans is None:
        raise CsvProblem("no_rows", f"{name} has a header but no data rows")
    output = CsvOutput(
        source=name, encoding=encoding, delimiter=delimiter, has_header=has_header, streamed=True,
        rows_before=cleaner.rows_before, rows_after=cleaner.rows_after, columns_before=columns,
        columns_after=[p.name for p in after], profile_before=before, profile_after=after,
        missing_before=dict(cleaner.missing_before), missing_after=dict(cleaner.missing_after),
        changes_per_rule=dict(cleaner.per_rule.most_common()), change_count=sum(cleaner.per_rule.values()),
        changes_sample=cleaner.sample_changes, duplicates_removed=cleaner.duplicates, ragged_rows=ragged[:100],
        validation_failures=len(failures) + cleaner.flagged_count, validation=(failures + cleaner.flagged)[:200], spec=spec,
    )
    notes = [f"large file cleaned in batches; column rules come from the first {FIT_ROWS:,} rows, dependencies "
             "between columns from the first batch (a sample of it), and median/mean fills and validation from the "
             "first batch (corrupted-looking values from every batch)",
             f"rows with the wrong number of fields are skipped and listed ({len(ragged)})", *cleaner.notes]
    return output, markdown(output, notes)
