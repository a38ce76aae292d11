"""Parsing single cell values: missing markers, numbers with decorations, dates, booleans."""

import re
from datetime import datetime

MISSING_MARKERS = {
    "", "na", "n/a", "n.a.", "n.a", "nan", "null", "none", "nil", "-", "--", "---", "?", "??", "empty",
    "missing", "#n/a", "#na", "(blank)", "blank", "undefined", "not available", "unknown",
}
_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(
    r"^(?P<sign>[-+−])?\s*(?P<currency>[$€£¥₹]|usd|eur|gbp)?\s*(?P<sign2>[-+−])?\s*"
    r"(?P<digits>\d[\d,.' ]*\d|\d)\s*(?P<unit>%|[a-zµ°][a-zµ°/²³]{0,10}\.?)?$",
    re.IGNORECASE,
)
_US_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_EU_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")
_DECIMAL_COMMA = re.compile(r"^\d+,\d+$")
_PLAIN = re.compile(r"^\d+(\.\d+)?$")
_SPACE_THOUSANDS = re.compile(r"^\d{1,3}([ ']\d{3})+([.,]\d+)?$")

BOOLEAN_FAMILIES = [("true", "false"), ("yes", "no"), ("y", "n"), ("t", "f"), ("on", "off")]
_BOOLEAN_VALUE = {word: (index, position == 0) for index, pair in enumerate(BOOLEAN_FAMILIES) for position, word in enumerate(pair)}

DATE_FORMATS = [
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y",
    "%B %d %Y", "%d-%b-%Y", "%d-%b-%y", "%a, %d %b %Y", "%A, %B %d, %Y",
]
DAY_FIRST = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%d.%m.%y"]
MONTH_FIRST = ["%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y", "%m/%d/%y"]
_DATE_TIME = re.compile(
    r"^(?P<date>.+?)(?:(?:[ T]|, )(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?(?:\.\d+)?\s*(?P<ampm>[AaPp][Mm])?Z?)?$"
)
_HAS_DIGIT = re.compile(r"\d")
EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
URL = re.compile(r"^(https?://|www\.)[^\s/$.?#].[^\s]*$", re.IGNORECASE)
PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
POSTAL = re.compile(r"^(\d{5}(-\d{4})?|\d{4}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}|[A-Z]\d[A-Z] ?\d[A-Z]\d|\d{3}-\d{4})$", re.IGNORECASE)


def tidy(value: str) -> str:
    return _SPACES.sub(" ", value.replace("\u00a0", " ")).strip()


def is_missing_marker(value: str) -> bool:
    return value.strip().lower() in MISSING_MARKERS


# Spellings of one unit: the first is the canonical name, compared across a column.
UNITS = [
    ("oz", "ounce", "ounces", "fl oz"), ("lb", "lbs", "pound", "pounds"), ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"),
    ("g", "gr", "gram", "grams"), ("mg", "milligram", "milligrams"), ("l", "liter", "liters", "litre", "litres"),
    ("ml", "milliliter", "milliliters", "millilitre", "millilitres"), ("km", "kilometer", "kilometers", "kilometre", "kilometres"),
    ("m", "meter", "meters", "metre", "metres"), ("cm", "centimeter", "centimeters", "centimetre", "centimetres"),
    ("mm", "millimeter", "millimeters", "millimetre", "millimetres"), ("in", "inch", "inches"), ("ft", "foot", "feet"),
    ("mi", "mile", "miles"), ("min", "mins", "minute", "minutes"), ("h", "hr", "hrs", "hour", "hours"),
    ("s", "sec", "secs", "second", "seconds"), ("%", "percent", "pct"),
]
_UNIT_NAME = {spelling: forms[0] for forms in UNITS for spelling in forms}
_WORD_UNIT = re.compile(r"^[a-zµ°][a-zµ°/²³]{0,5}$")


def canonical_unit(unit: str) -> str:
    return _UNIT_NAME.get(unit, unit)


def split_number(value: str) -> tuple[str, str, str] | None:
    """(sign, digits as written, canonical unit) for a number with currency, unit, percent or
    separators. A unit is a known unit word (`ounces`, `oz.`) or a short word; `x`s stand for
    unknown digits (`3342938xxx`), not a unit."""
    match = _NUMBER.match(value.strip())
    if not match:
        return None
    unit = (match["unit"] or "").lower().rstrip(".")
    if unit and (unit not in _UNIT_NAME and not _WORD_UNIT.match(unit) or set(unit) == {"x"}):
        return None
    sign = "-" if "-" in (match["sign"] or "") + (match["sign2"] or "") or "−" in (match["sign"] or "") else ""
    return sign, match["digits"], canonical_unit(unit)


def unit_suffix(value: str) -> str:
    """The unit as written after the digits, with its spacing (' min', '%', 'kg')."""
    match = _NUMBER.match(value.strip())
    return value.strip()[match.end("digits"):] if match and match["unit"] else ""


def number_style(digits: str) -> str | None:
    if _PLAIN.match(digits):
        return "plain"
    if _US_THOUSANDS.match(digits):
        return "us"
    if _EU_THOUSANDS.match(digits):
        return "eu"
    if _DECIMAL_COMMA.match(digits):
        return "decimal_comma"
    if _SPACE_THOUSANDS.match(digits):
        return "space"
    return None


def canonical_number(sign: str, digits: str, style: str, decimal_comma: bool) -> str | None:
    """The number as plain digits with a '.' decimal point, digits after it as written."""
    if style == "plain":
        plain = digits
    elif style == "us":
        plain = digits.replace(",", "")
    elif style == "eu":
        plain = digits.replace(".", "").replace(",", ".")
    elif style == "decimal_comma":
        plain = digits.replace(",", ".") if decimal_comma else digits.replace(",", "")
    elif style == "space":
        plain = re.sub(r"[ ']", "", digits).replace(",", ".")
    else:
        return None
    if plain.count(".") > 1:
        return None
    return sign + plain


def boolean_of(value: str) -> tuple[int, bool] | None:
    """(family index, truth) for yes/no-like words."""
    return _BOOLEAN_VALUE.get(value.strip().lower())


def date_formats(dayfirst: bool) -> list[str]:
    return DATE_FORMATS + (DAY_FIRST + MONTH_FIRST if dayfirst else MONTH_FIRST + DAY_FIRST)


def parse_date(value: str, formats: list[str]) -> tuple[datetime, bool] | None:
    """(datetime, has time) for a date with an optional time. `formats` is reordered so the
    format that fitted last is tried first (a column mostly uses one)."""
    match = _DATE_TIME.match(value)
    if not match or not _HAS_DIGIT.search(match["date"]):
        return None
    day = None
    for index, fmt in enumerate(formats):
        try:
            day = datetime.strptime(match["date"], fmt)
        except ValueError:
            continue
        if index:
            formats.insert(0, formats.pop(index))
        break
    if day is None:
        return None
    if match["hour"] is None:
        return day, False
    hour = int(match["hour"])
    if match["ampm"]:
        hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    if hour > 23 or int(match["minute"]) > 59:
        return None
    return day.replace(hour=hour, minute=int(match["minute"]), second=int(match["second"] or 0)), True


def dayfirst_evidence(value: str) -> int:
    """+1 if the value can only be day-first, -1 if only month-first, 0 if either or neither."""
    match = re.match(r"^(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}", value)
    if not match:
        return 0
    first, second = int(match[1]), int(match[2])
    if first > 12 >= second:
        return 1
    if second > 12 >= first:
        return -1
    return 0
