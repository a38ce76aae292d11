"""Turn a cleaning instruction into a CleaningSpec, offline, from common phrasings."""

import re

from aiorch.contracts import CleaningSpec, FillRule, RangeRule, RowFilter

_NUMBER = r"(-?\d+(?:\.\d+)?)"
_STRATEGIES = {
    "median": "median", "mean": "mean", "average": "mean", "mode": "mode", "most common": "mode",
    "most frequent": "mode", "forward fill": "ffill", "forward-fill": "ffill", "previous": "ffill",
    "ffill": "ffill", "backward fill": "bfill", "bfill": "bfill", "next": "bfill",
}


def column_pattern(columns: list[str]) -> dict[str, re.Pattern]:
    """How each column may be named in a sentence: as written, or with spaces for underscores."""
    patterns = {}
    for column in columns:
        base = {column.lower(), column.lower().replace("_", " "), column.lower().replace("_", "")}
        forms = base | {form + "s" for form in base} | {form + "es" for form in base}
        alternatives = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True) if form)
        patterns[column] = re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])", re.IGNORECASE)
    return patterns


def columns_in(text: str, patterns: dict[str, re.Pattern]) -> list[str]:
    found = [(match.start(), column) for column, pattern in patterns.items() for match in [pattern.search(text)] if match]
    return [column for _, column in sorted(found)]


def parse_instruction(instruction: str, columns: list[str]) -> CleaningSpec:
    text = instruction.lower()
    patterns = column_pattern(columns)
    spec = CleaningSpec(source="offline")
    verbs = r"(?=(?:drop|remove|fill|impute|replace|dedup|de-dup|keep|standardi[sz]e|delete|clean|make|ensure|check|validate|don'?t|do not)\b)"
    for clause in re.split(rf"[;\n]|\.\s|,\s*(?:and\s+|then\s+)?|\s+(?:and|then)\s+{verbs}", text):
        clause = clause.strip()
        if clause:
            _clause(clause, patterns, spec)
    return spec


def _clause(clause: str, patterns: dict[str, re.Pattern], spec: CleaningSpec) -> None:
    named = columns_in(clause, patterns)
    # duplicates
    if re.search(r"\b(keep|don'?t remove|do not remove|leave)\b.*\bduplicat", clause):
        spec.deduplicate = False
        return
    if re.search(r"duplicat|dedup|unique", clause):
        spec.deduplicate = True
        if named and re.search(r"\b(by|on|based on|using|per|key|same)\b", clause):
            spec.dedupe_keys = named
        return
    if re.search(r"\b(don'?t|do not|no)\b.*\bdependenc", clause):
        spec.repair_dependencies = False
        return
    if re.search(r"\b(don'?t|do not|no)\b.*\b(fold|standardi|typo)", clause):
        spec.fold_categories = False
        return
    # filling missing values
    if re.search(r"\b(fill|impute|replace|complete)\b", clause) and re.search(r"missing|empty|blank|null|nan|gaps?|\bna\b", clause) or re.search(r"\b(impute|forward[- ]fill|ffill|bfill)\b", clause):
        strategy = next((value for key, value in _STRATEGIES.items() if re.search(rf"\b{key}\b", clause)), None)
        constant = re.search(r"\bwith\s+(?:the\s+value\s+)?(?:'([^']*)'|\"([^\"]*)\"|" + _NUMBER + r"\b|(zero|unknown|n/a)\b)", clause)
        if strategy is None and constant:
            value = next(group for group in constant.groups() if group is not None)
            value = "0" if value == "zero" else value
            targets = named or [None]
            spec.fill += [FillRule(column=column, strategy="constant", value=value) for column in targets]
        elif strategy:
            spec.fill += [FillRule(column=column, strategy=strategy) for column in (named or [None])]
        return
    # dropping by missing values
    over = re.search(r"(?:more than|over|above|>)\s*" + _NUMBER + r"\s*%", clause)
    if re.search(r"\b(drop|remove|delete)\b", clause) and re.search(r"missing|empty|blank|null|nan", clause):
        if re.search(r"\bcolumns?\b", clause) and not named:
            spec.drop_columns_missing_over = float(over.group(1)) / 100 if over else 0.5
        elif over:
            spec.drop_rows_missing_over = float(over.group(1)) / 100
        else:
            spec.drop_rows_missing = named or ["*"]
        return
    # row filters: "remove rows where price is negative", "drop rows with age over 120"
    if re.search(r"\b(drop|remove|delete|exclude|filter out)\b", clause) and named:
        column = named[0]
        rest = clause[patterns[column].search(clause).end():]
        condition = _condition(rest)
        if condition:
            spec.remove_rows.append(RowFilter(column=column, op=condition[0], value=condition[1]))
        return
    # stated ranges: "age must be between 0 and 120", "price should be positive"
    if named and re.search(r"\b(must|should|has to|needs to|between|at least|at most|positive|non-negative)\b", clause):
        column = named[0]
        between = re.search(r"between\s+" + _NUMBER + r"\s+and\s+" + _NUMBER, clause)
        low = re.search(r"(?:at least|>=|no less than|minimum(?: of)?)\s*" + _NUMBER, clause)
        high = re.search(r"(?:at most|<=|no more than|maximum(?: of)?)\s*" + _NUMBER, clause)
        rule = RangeRule(column=column)
        if between:
            rule.min, rule.max = float(between.group(1)), float(between.group(2))
        if low:
            rule.min = float(low.group(1))
        if high:
            rule.max = float(high.group(1))
        if re.search(r"\b(non-negative|not negative|positive)\b", clause) and rule.min is None:
            rule.min = 0.0
        if rule.min is not None or rule.max is not None:
            spec.ranges.append(rule)


def _condition(rest: str) -> tuple[str, str | None] | None:
    rest = rest.strip()
    if re.search(r"\b(is |are )?(negative|below zero|less than zero|< ?0)\b", rest):
        return "<", "0"
    if re.search(r"\b(is |are )?(missing|empty|blank|null)\b", rest):
        return "missing", None
    if re.search(r"\b(invalid|malformed|wrong)\b", rest):
        return "invalid", None
    for words, op in (("(?:greater|more|higher|larger) than|over|above|>", ">"), ("(?:less|lower|smaller) than|below|under|<", "<"),
                      ("at least|>=", ">="), ("at most|<=", "<="), ("(?:is |equals? |=)+", "==")):
        match = re.search(rf"(?:{words})\s*" + _NUMBER, rest)
        if match:
            return op, match.group(1)
    match = re.search(r"\b(?:is|equals?)\s+['\"]?([\w .-]+?)['\"]?$", rest)
    if match:
        return "==", match.group(1)
    return None
