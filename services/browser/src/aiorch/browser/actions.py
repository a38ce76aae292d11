"""From an instruction to browser actions, offline and deterministic. What cannot be
mapped is refused with the part that was not understood; nothing is guessed."""

import re
from dataclasses import dataclass

from aiorch.runtime.agent import StepFailure

URL = re.compile(r"""https?://[^\s<>"'`)\]]+""", re.IGNORECASE)
_QUOTED = r"""['"“‘]([^'"”’]+)['"”’]"""
_UNSUPPORTED = re.compile(
    r"\b(book|buy|purchase|order|pay|checkout|delete|remove|upload|download|install|post|tweet|send an? email|"
    r"sign up|register|subscribe|transfer)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Action:
    kind: str  # open, click, fill, submit, wait, next_pages, screenshot
    target: str = ""
    value: str = ""

    def describe(self) -> str:
        return {
            "open": f"open {self.target}", "click": f"click '{self.target}'",
            "fill": f"fill '{self.target}' with '{'*' * len(self.value) if 'pass' in self.target.lower() else self.value}'",
            "submit": "submit the form", "wait": f"wait for '{self.target}'",
            "next_pages": f"follow 'next' up to {self.target} pages", "screenshot": "take a full-page screenshot",
        }[self.kind]


@dataclass
class BrowsePlan:
    actions: list[Action]
    wants: set[str]
    """What to extract besides the basics: reviews, tables, links, lists."""


def parse(instruction: str, params: dict, max_pages: int) -> BrowsePlan:
    text = instruction.strip()
    urls = [url.rstrip(".,;:!?") for url in URL.findall(text)]
    if isinstance(params.get("url"), str):
        urls.insert(0, params["url"])
    if not urls:
        raise StepFailure("no_url", "no web address in the instruction: include one like https://example.org")
    unsupported = _UNSUPPORTED.search(URL.sub(" ", text))
    if unsupported:
        raise StepFailure(
            "not_understood",
            f"cannot do '{unsupported.group(0)}' offline: I can open pages, read text, tables and links, click, "
            "fill and submit forms, wait for text, follow 'next' pages and take screenshots",
        )
    lowered = URL.sub(" ", text.lower())
    actions = [Action("open", urls[0])]
    actions += _logins(text) + _fills(text) + _clicks(text)
    if re.search(r"\b(submit|send the form|send it|log ?in|sign ?in)\b", lowered) and not any(
            a.kind == "submit" for a in actions) and any(a.kind == "fill" for a in actions):
        actions.append(Action("submit"))
    for match in re.finditer(r"\bwait (?:for|until) " + _QUOTED, text, re.IGNORECASE):
        actions.append(Action("wait", match.group(1)))
    pages = re.search(r"\b(?:up to|first|at most)\s+(\d+)\s+pages\b", lowered)
    if pages or re.search(r"\b(all|every|each) (?:of the )?pages\b|\bnext pages?\b|\bfollow (?:the )?next\b|\bpaginat", lowered):
        count = min(int(pages.group(1)) if pages else max_pages, max_pages)
        actions.append(Action("next_pages", str(count)))
    for url in urls[1:]:
        actions.append(Action("open", url))
    actions.append(Action("screenshot"))
    wants = {kind for kind, pattern in {
        "reviews": r"\breviews?\b|\bcomments?\b|\btestimonials?\b|\bopinions?\b",
        "tables": r"\btables?\b",
        "links": r"\blinks?\b",
        "lists": r"\blists?\b|\bitems\b|\bproducts\b|\bentries\b",
    }.items() if re.search(pattern, lowered)}
    return BrowsePlan(actions, wants)


def _logins(text: str) -> list[Action]:
    match = re.search(r"\blog ?in as\s+" + r"""['"]?([^\s'"]+)['"]?""" + r"\s+(?:with|and)\s+(?:the\s+)?password\s+"
                      + r"""['"]?([^\s'"]+)['"]?""", text, re.IGNORECASE)
    if not match:
        return []
    return [Action("fill", "username", match.group(1)), Action("fill", "password", match.group(2)), Action("submit")]


_VALUE = r"""['"“‘](?P<value>[^'"”’]+)['"”’]"""
_FILLS = [
    re.compile(r"\b(?:fill|set)\s+(?:in\s+)?(?:the\s+)?(?P<field>[\w -]{1,30}?)\s+(?:field\s+)?(?:with|to|as)\s+" + _VALUE,
               re.IGNORECASE),
    re.compile(r"\b(?:enter|type|put|write)\s+" + _VALUE + r"\s+(?:in|into)\s+(?:the\s+)?(?P<field>[\w -]{1,30}?)"
               r"(?:\s+(?:field|box))?(?=$|[,.;]|\s+(?:and|then)\b)", re.IGNORECASE),
    re.compile(r"\b(?P<field>name|email|e-mail|subject|message|phone|search|query)\s*(?:=|:|\bis\b)\s*" + _VALUE,
               re.IGNORECASE),
]


def _fills(text: str) -> list[Action]:
    return [Action("fill", match["field"].strip(), match["value"]) for pattern in _FILLS for match in pattern.finditer(text)]


def _clicks(text: str) -> list[Action]:
    actions = []
    for match in re.finditer(r"\b(?:click|press|tap)\s+(?:on\s+)?(?:the\s+)?(?:" + _QUOTED + r"|(?P<word>[\w-]+(?: [\w-]+)?)\s+(?:button|link|tab))",
                             text, re.IGNORECASE):
        actions.append(Action("click", (match.group(1) or match.group("word")).strip()))
    return actions
