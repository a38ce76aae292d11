"""One test per repair rule, through the whole in-memory pipeline."""

import csv
import io

import pytest

from aiorch.contracts import CleaningSpec, FillRule, RangeRule, RowFilter
from aiorch.csv.cleaner import clean_bytes


def run(text: str, spec: CleaningSpec | None = None, with_id: bool = True):
    """Clean `text`; an id column is added so that equal values are not duplicate rows."""
    if with_id and not text.startswith("id,"):
        lines = text.splitlines()
        text = "\n".join([f"id,{lines[0]}", *(f"{n},{line}" for n, line in enumerate(lines[1:], 1))]) + "\n"
    result = clean_bytes(text.encode(), "t.csv", spec or CleaningSpec())
    rows = list(csv.DictReader(io.StringIO(result.cleaned_csv.decode())))
    log = list(csv.DictReader(io.StringIO(result.change_log_csv.decode())))
    return rows, log, result


def column(rows, name):
    return [row[name] for row in rows]


def test_missing_markers_become_empty():
    rows, log, _ = run("id,score\n1,N/A\n2,null\n3,-\n4,?\n5,7\n6,empty\n7,8\n")
    assert column(rows, "score") == ["", "", "", "", "7", "", "8"]
    assert {entry["rule"] for entry in log} == {"missing_marker"}


@pytest.mark.parametrize(
    "values, expected",
    [
        (["$1,234.50", "€12", "£3.10", "7"], ["1234.50", "12", "3.10", "7"]),
        (["1.234,50", "12,5", "3", "4"], ["1234.50", "12.5", "3", "4"]),
        (["45%", "12.5 %", "3", "100%"], ["45", "12.5", "3", "100"]),
        (["12 kg", "3.5kg", "7", "9 kg"], ["12", "3.5", "7", "9"]),
        (["12.0 oz", "16.0 oz", "12.0", "24 oz"], ["12.0", "16.0", "12.0", "24"]),
        (["1 000", "25 000", "7", "8"], ["1000", "25000", "7", "8"]),
    ],
)
def test_numbers_stored_as_text_are_repaired(values, expected):
    rows, log, _ = run("id,v\n" + "\n".join(f'{n},"{value}"' for n, value in enumerate(values)) + "\n")
    assert column(rows, "v") == expected
    assert all(entry["rule"] == "number_format" for entry in log)


def test_a_different_unit_is_left_and_reported():
    rows, _, result = run("w\n12 kg\n3 kg\n5 kg\n700 g\n")
    assert column(rows, "w") == ["12", "3", "5", "700 g"]
    weights = next(p for p in result.output.profile_before if p.name == "w")
    assert "another unit" in weights.issues[0]


def test_dates_in_mixed_formats_become_iso():
    rows, log, _ = run('d\n2021-03-04\n03/15/2021\n15 Mar 2021\n"March 16, 2021"\n2021/03/20\n')
    assert column(rows, "d") == ["2021-03-04", "2021-03-15", "2021-03-15", "2021-03-16", "2021-03-20"]
    assert {entry["rule"] for entry in log} == {"date_format"}


def test_day_first_dates_are_recognised_from_the_column():
    rows, _, _ = run("d\n25/12/2021\n03/04/2021\n01/02/2021\n")
    assert column(rows, "d") == ["2021-12-25", "2021-04-03", "2021-02-01"]


def test_datetimes_keep_their_time():
    rows, _, _ = run("t\n2021-03-04 10:30\n03/05/2021 2:15 PM\n2021-03-06T08:00:00\n")
    assert column(rows, "t") == ["2021-03-04T10:30:00", "2021-03-05T14:15:00", "2021-03-06T08:00:00"]


def test_booleans_take_the_columns_dominant_form():
    rows, log, _ = run("b\nyes\nno\nyes\nY\nNo\nTRUE\nno\n")
    assert column(rows, "b") == ["yes", "no", "yes", "yes", "no", "yes", "no"]
    assert {entry["rule"] for entry in log} == {"boolean"}


def test_whitespace_is_trimmed_and_collapsed():
    rows, log, _ = run('name\n"  Ada  Lovelace "\nBen\n', with_id=False)
    assert column(rows, "name") == ["Ada Lovelace", "Ben"] and log[0]["rule"] == "whitespace"


def test_categorical_variants_case_and_typos_fold_into_the_dominant_spelling():
    values = ["called"] * 8 + ["caxxed", "Called"] + ["USA"] * 6 + ["U.S.A.", "usa"] + ["Canada"] * 5 + ["Canda"]
    rows, log, _ = run("status\n" + "\n".join(values[:10]) + "\n")
    assert column(rows, "status") == ["called"] * 10
    assert {(e["old"], e["rule"]) for e in log} == {("caxxed", "typo"), ("Called", "case")}
    rows, log, _ = run("country\n" + "\n".join(values[10:]) + "\n")
    assert set(column(rows, "country")) == {"USA", "Canada"}
    assert {(e["old"], e["rule"]) for e in log} == {("U.S.A.", "variant"), ("usa", "case"), ("Canda", "typo")}


def test_two_frequent_categories_are_never_merged():
    rows, log, _ = run("sex\n" + "male\nfemale\n" * 10)
    assert log == [] and set(column(rows, "sex")) == {"male", "female"}


def test_exact_and_normalised_duplicates_are_removed_with_the_first_kept():
    rows, log, result = run("id,name\n1,Ada\n2,Ben\n1,Ada\n2, Ben \n", with_id=False)
    assert column(rows, "id") == ["1", "2"] and result.output.duplicates_removed == 2
    assert [(e["row"], e["rule"]) for e in log if e["column"] == "*"] == [("3", "duplicate_row"), ("4", "duplicate_row_normalised")]


def test_key_based_duplicates_when_a_key_is_named():
    spec = CleaningSpec(dedupe_keys=["email"])
    rows, log, _ = run("email,name\na@x.com,Ada\nb@x.com,Ben\na@x.com,Ada L.\n", spec, with_id=False)
    assert column(rows, "name") == ["Ada", "Ben"] and log[-1]["rule"] == "duplicate_key"


def test_missing_values_are_reported_not_invented_by_default():
    rows, log, result = run("age\n30\n\n40\n")
    assert column(rows, "age") == ["30", "", "40"] and log == []
    assert result.output.missing_after == {"id": 0, "age": 1}


@pytest.mark.parametrize(
    "strategy, value, expected",
    [("median", None, "30"), ("mean", None, "33.333333"), ("constant", "0", "0"), ("ffill", None, "20")],
)
def test_fill_strategies(strategy, value, expected):
    spec = CleaningSpec(fill=[FillRule(column="age", strategy=strategy, value=value)])
    rows, log, _ = run("age\n20\n\n30\n50\n", spec)
    assert column(rows, "age")[1] == expected and log[-1]["rule"] == f"fill_{strategy}"


def test_mode_fill_for_categories():
    spec = CleaningSpec(fill=[FillRule(column="city", strategy="mode")])
    rows, _, _ = run("city\nRome\nRome\n\nParis\n", spec)
    assert column(rows, "city") == ["Rome", "Rome", "Rome", "Paris"]


def test_drop_columns_over_a_missing_threshold_and_rows_with_missing_values():
    spec = CleaningSpec(drop_columns_missing_over=0.5, drop_rows_missing=["a"])
    rows, log, result = run("a,b\n1,\n,\n3,x\n4,\n", spec)
    assert result.output.columns_after == ["id", "a"] and column(rows, "a") == ["1", "3", "4"]
    assert {e["rule"] for e in log} == {"drop_column", "drop_row_missing"}


def test_rows_removed_by_a_stated_rule():
    spec = CleaningSpec(remove_rows=[RowFilter(column="price", op="<", value="0")])
    rows, log, _ = run("item,price\na,5\nb,-3\nc,$-2\nd,7\n", spec)
    assert column(rows, "item") == ["a", "d"]
    assert [e["row"] for e in log if e["rule"].startswith("removed")] == ["2", "3"]


def test_validation_lists_failing_rows_without_changing_them():
    emails = "\n".join(f"user{n}@example.com,{n}" for n in range(12))
    spec = CleaningSpec(ranges=[RangeRule(column="age", min=0, max=10)])
    rows, _, result = run(f"email,age\n{emails}\nnot-an-email,5\n", spec, with_id=False)
    checks = {(f.row, f.column, f.check) for f in result.output.validation}
    assert (13, "email", "is an email") in checks
    assert (12, "age", "between 0.0 and 10.0 (as asked)") in checks
    assert rows[-1]["email"] == "not-an-email"


def test_phone_and_postal_code_columns_are_checked_by_their_names():
    _, _, result = run("zip,phone\n10115,+49 30 1234567\n2000,555-123-4567\nABCDEFG,call me\n", with_id=False)
    failing = {(f.row, f.column) for f in result.output.validation}
    assert failing == {(3, "zip"), (3, "phone")}


def test_exported_cells_that_would_run_as_formulas_are_quoted():
    rows, _, result = run('name,v\n"=HYPERLINK(""http://x"")",-5\n@SUM(A1),+3\n', with_id=False)
    text = result.cleaned_csv.decode()
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text and ",-5" in text


def test_the_report_has_before_and_after_figures_and_changes_per_rule():
    _, _, result = run("id,price\n1,$5\n2,N/A\n2,N/A\n", with_id=False)
    assert "| rows | 3 | 2 |" in result.report and "| number_format | 1 |" in result.report
    assert result.output.missing_before == {"id": 0, "price": 2} and result.output.changes_per_rule["duplicate_row"] == 1
