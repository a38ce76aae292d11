"""Quoted text in a request: the planner puts it in a sentiment step's `text` parameter and
the sentiment agent reads it when no parameter came. One definition for both."""

import re

# A quote starts and ends outside a word, so the apostrophes of "what's" or "I'm" are not quotes.
QUOTED = re.compile(r"(?<!\w)'((?:[^']|'(?=\w)){2,}?)'(?!\w)|\"([^\"]{2,})\"|«\s*([^»]{2,}?)\s*»|“([^”]{2,})”|"
                    r"„([^“”]{2,})[“”]")


def quoted_texts(text: str) -> list[str]:
    return [next(group for group in match.groups() if group).strip() for match in QUOTED.finditer(text)]
