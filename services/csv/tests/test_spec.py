import pytest

from aiorch.contracts import FillRule, RangeRule, RowFilter
from aiorch.csv.spec import parse_instruction

COLUMNS = ["id", "age", "price", "country", "email", "signup_date"]


def test_plain_clean_it_is_the_default_spec():
    spec = parse_instruction("clean it", COLUMNS)
    assert spec.deduplicate and spec.fix_formats and spec.fold_categories and not spec.fill and not spec.remove_rows


@pytest.mark.parametrize(
    "instruction, fill",
    [
        ("impute missing ages with the median", [FillRule(column="age", strategy="median")]),
        ("fill missing price with the mean", [FillRule(column="price", strategy="mean")]),
        ("fill empty country with the most common value", [FillRule(column="country", strategy="mode")]),
        ("replace missing values with 0", [FillRule(strategy="constant", value="0")]),
        ("fill missing country with 'unknown'", [FillRule(column="country", strategy="constant", value="unknown")]),
        ("forward fill the signup date", [FillRule(column="signup_date", strategy="ffill")]),
    ],
)
def test_fill_instructions(instruction, fill):
    assert parse_instruction(instruction, COLUMNS).fill == fill


def test_row_filters_and_ranges():
    spec = parse_instruction("remove rows where price is negative; drop rows with age over 120", COLUMNS)
    assert spec.remove_rows == [RowFilter(column="price", op="<", value="0"), RowFilter(column="age", op=">", value="120")]
    spec = parse_instruction("age must be between 0 and 120, price should be positive", COLUMNS)
    assert spec.ranges == [RangeRule(column="age", min=0, max=120), RangeRule(column="price", min=0)]


def test_missing_value_drops():
    assert parse_instruction("drop rows with missing values", COLUMNS).drop_rows_missing == ["*"]
    assert parse_instruction("remove rows where email is missing", COLUMNS).drop_rows_missing == ["email"]
    assert parse_instruction("drop columns with more than 40% missing", COLUMNS).drop_columns_missing_over == 0.4


def test_duplicates():
    assert parse_instruction("remove duplicates based on email", COLUMNS).dedupe_keys == ["email"]
    assert parse_instruction("keep the duplicates", COLUMNS).deduplicate is False


def test_several_instructions_in_one_sentence():
    spec = parse_instruction(
        "standardise the country names, impute missing ages with the median and remove rows where price is negative",
        COLUMNS)
    assert spec.fold_categories and spec.fill == [FillRule(column="age", strategy="median")]
    assert spec.remove_rows == [RowFilter(column="price", op="<", value="0")]
