"""The markdown report: before/after figures, what changed and why, what fails validation."""

from aiorch.contracts import CsvOutput


def markdown(output: CsvOutput, notes: list[str] | None = None) -> str:
    missing_before = sum(output.missing_before.values())
    missing_after = sum(output.missing_after.values())
    lines = [
        f"**Cleaned `{output.source}`**: {output.rows_before:,} → {output.rows_after:,} rows, "
        f"{len(output.columns_before)} → {len(output.columns_after)} columns, {output.change_count:,} changes"
        f"{', streamed in chunks' if output.streamed else ''}.",
        "",
        "| | before | after |",
        "|---|---|---|",
        f"| rows | {output.rows_before:,} | {output.rows_after:,} |",
        f"| missing cells | {missing_before:,} | {missing_after:,} |",
        f"| duplicate rows removed | | {output.duplicates_removed:,} |",
        f"| rows failing validation | | {len({f.row for f in output.validation}) if output.validation_failures else 0:,} |",
    ]
    if output.changes_per_rule:
        lines += ["", "**Changes per rule**", "", "| rule | changes |", "|---|---|"]
        lines += [f"| {rule} | {count:,} |" for rule, count in output.changes_per_rule.items()]
    lines += ["", "**Columns**", "", "| column | type | missing before → after | unique | issues |", "|---|---|---|---|---|"]
    after = {p.name: p for p in output.profile_after}
    for column in output.profile_before:
        cleaned = after.get(column.name)
        missing = f"{column.missing:,} → {cleaned.missing:,}" if cleaned else f"{column.missing:,} → dropped"
        issues = "; ".join(column.issues) or ""
        lines.append(f"| {column.name} | {column.inferred_type} | {missing} | {column.unique:,} | {issues} |")
    if output.ragged_rows:
        shown = ", ".join(f"line {r.line} ({r.fields} fields, {r.handling})" for r in output.ragged_rows[:10])
        lines += ["", f"**Rows with the wrong number of fields** (expected {output.ragged_rows[0].expected}): {shown}"
                  + (" …" if len(output.ragged_rows) > 10 else "")]
    if output.validation_failures:
        lines += ["", f"**Validation**: {output.validation_failures:,} failures (kept, not changed)", "",
                  "| row | column | check | value |", "|---|---|---|---|"]
        lines += [f"| {f.row} | {f.column} | {f.check} | {f.value} |" for f in output.validation[:15]]
    if notes:
        lines += ["", "Notes: " + "; ".join(notes) + "."]
    lines += ["", f"Read as {output.encoding}, delimiter {output.delimiter!r}, "
              f"{'with' if output.has_header else 'without'} a header. The cleaned file and the full change log "
              "(row, column, old, new, rule) are attached; cells that a spreadsheet would run as formulas are quoted."]
    return "\n".join(lines)
