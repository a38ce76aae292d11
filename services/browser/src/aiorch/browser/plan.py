"""From an instruction to an ordered plan of browser actions, offline and deterministic.

The instruction is split into clauses ("then", "and then", commas and "and" before a verb);
each clause becomes one or more actions with a target described by words (a quoted name, a
role, an ordinal, a label), grounded against the page only when it runs (see grounding.py).
A clause with a verb that cannot be mapped is kept as an action that will be `not_done`
with the reason, never dropped."""

import re
from dataclasses import dataclass, field

from .errors import BrowseError


URL = re.compile(r"""https?://[^\s<>"'`)\]]+""", re.IGNORECASE)
_UNSUPPORTED = re.compile(
    r"^(book|buy|purchase|order|pay|checkout|delete|remove|upload|download|install|post|tweet|send an? email|"
    r"sign up|register|subscribe|transfer)\b", re.IGNORECASE)

# Verbs that start a clause (a comma or "and" before one of these starts a new action).
_VERBS = {
    "click": "click", "press": "click", "tap": "click", "hit": "click", "push": "click",
    "select": "select", "choose": "select", "pick": "select",
    "check": "check", "tick": "check", "uncheck": "uncheck", "untick": "uncheck",
    "type": "fill", "enter": "fill", "fill": "fill", "write": "fill", "input": "fill", "put": "fill", "paste": "fill",
    "set": "fill", "focus": "focus", "expand": "expand", "collapse": "collapse", "open": "expand", "close": "collapse",
    "hover": "hover", "scroll": "scroll", "submit": "submit", "wait": "wait", "log": "login", "login": "login",
    "sign": "login", "find": "find", "copy": "copy", "switch": "explore", "navigate": "explore", "search": "search",
    "read": "read", "get": "read", "extract": "read", "list": "read", "scrape": "read", "take": "read", "show": "read",
    "go": "explore", "move": "hover", "double-click": "click", "mark": "check", "clear": "fill", "drag": "unsupported",
}
READ_KINDS = {"open", "wait", "next_pages", "screenshot", "read"}

ROLE_WORDS = [
    (r"radio(?:\s+button)?s?|option\s+buttons?", "radio"), (r"check\s*box(?:es)?|tick\s*box(?:es)?", "checkbox"),
    (r"text\s*areas?", "textarea"), (r"(?:input\s+)?text\s*(?:box|field|input)(?:es|s)?|input(?:\s+(?:box|field))?s?|"
                                     r"fields?|entry|search\s+box", "textbox"),
    (r"drop-?\s?downs?|select(?:ion)?\s+(?:box|list)|combo\s*box|scroll\s+list|list\s*box|lists?|menus?", "listbox"),
    (r"buttons?", "button"), (r"links?|hyperlinks?", "link"), (r"tabs?", "tab"), (r"sliders?", "slider"),
    (r"spinners?|spin\s*buttons?", "spinbutton"), (r"dialog(?:\s+box)?|popup|pop-up|modal", "dialog"),
    (r"widgets?|elements?|items?|entries|options?", ""), (r"paragraph", "paragraph"), (r"tables?", "table"),
    (r"dates?|date\s+field", "date"), (r"time", "time"), (r"folders?|files?", ""), (r"sections?", "section"),
]
_ROLE_RE = re.compile(r"\b(" + "|".join(f"(?:{p})" for p, _ in ROLE_WORDS) + r")\b", re.IGNORECASE)
# A bare quoted widget kind ("click on a "textarea" widget") names a role, not a label.
_KIND_NAMES = {"text": "textbox", "textbox": "textbox", "input": "textbox", "textarea": "textarea", "button": "button",
               "checkbox": "checkbox", "radio": "radio", "link": "link", "slider": "slider", "tab": "tab"}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
            "ninth": 9, "tenth": 10, "last": -1}
_ORDINAL_RE = re.compile(r"\b(?:(\d+)(?:st|nd|rd|th)|(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|"
                         r"tenth|last))\b", re.IGNORECASE)
_CASES = [(r"lower\s*-?\s*case|small letters", "lower"), (r"upper\s*-?\s*case|capital letters|all caps", "upper"),
          (r"title\s*-?\s*case|capitali[sz]ed", "title")]
_STOP = {"the", "a", "an", "on", "in", "into", "to", "of", "for", "at", "with", "from", "and", "then", "that", "this",
         "it", "its", "please", "named", "labeled", "labelled", "called", "titled", "below", "above", "here", "there",
         "box", "widget", "element", "all", "page", "text", "which", "is", "as", "by", "under", "field"}


@dataclass(frozen=True)
class Target:
    """What an action acts on, in words: a name (label/text), a role, an ordinal, a scope."""

    name: str = ""
    role: str = ""
    ordinal: int = 0  # 1-based position among matches of the role; -1 the last; 0 none
    scope: str = ""  # text that the target's container holds, e.g. "@user" or a dialog
    any: bool = False  # "a textarea": any one of them will do

    def words(self) -> str:
        parts = []
        if self.ordinal:
            parts.append("the last" if self.ordinal == -1 else f"the {_nth(self.ordinal)}")
        if self.name:
            parts.append(f"'{self.name}'")
        if self.role:
            parts.append(self.role)
        if self.scope:
            parts.append(f"in the {self.scope}" if self.scope == "dialog" else f"near '{self.scope}'")
        return " ".join(parts) or "the page"


@dataclass(frozen=True)
class Action:
    kind: str  # open, click, fill, select, check, uncheck, focus, hover, expand, collapse, scroll, submit, wait,
    # set, find, copy, explore, next_pages, screenshot, unsupported
    target: str = ""
    value: str = ""
    spec: Target = field(default_factory=Target)
    source: str = ""  # where the value comes from when read off the page: var:<name>
    case: str = ""  # lower, upper, title
    options: tuple = ()  # select: the values; path hover steps
    note: str = ""  # why an action cannot be done (unsupported verbs)

    def describe(self) -> str:
        shown = self.value
        if "pass" in (self.target + self.spec.name).lower():
            shown = "*" * len(self.value)
        target = f"'{self.target}'" if self.target and not self.spec.role and not self.spec.ordinal else self.spec.words()
        value = f"'{shown}'" if not self.source else f"the {self.source.split(':', 1)[1]}"
        return {
            "open": f"open {self.target}", "click": f"click {target}", "fill": f"fill {target} with {value}",
            "submit": "submit the form", "wait": f"wait for '{self.target}'",
            "next_pages": f"follow 'next' up to {self.target} pages", "screenshot": "take a screenshot",
            "select": f"select {', '.join(repr(o) for o in self.options) or repr(self.value)}"
                      + (f" in {self.spec.words()}" if self.spec.role or self.spec.name else ""),
            "check": f"check {target}", "uncheck": f"uncheck {target}", "focus": f"focus {target}",
            "hover": f"hover over {target}",
            "expand": f"expand {target}" if self.spec.name or self.spec.role != "section" else
                      f"expand {'every collapsed section' if self.options else 'the section'}",
            "collapse": f"collapse {target}" if self.spec.name or self.spec.role != "section" else
                        f"collapse {'every expanded section' if self.options else 'the section'}",
            "scroll": f"scroll to {target}", "set": f"set {target} to '{self.value}'",
            "find": f"find {self.target} ({self.value})", "copy": f"copy the text of {target}",
            "explore": f"{self.target} (hidden content is opened as needed)",
            "unsupported": f"do '{self.target}'", "search": f"search {self.target}",
        }.get(self.kind, f"{self.kind} {self.target}".strip())


@dataclass
class BrowsePlan:
    actions: list[Action]
    wants: set[str]
    """What to extract besides the basics: reviews, tables, links, lists."""
    instruction: str = ""
    """The instruction without its addresses: its echo on a page is never a target."""

    @property
    def read_only(self) -> bool:
        return all(action.kind in READ_KINDS for action in self.actions)


def parse(instruction: str, params: dict, max_pages: int) -> BrowsePlan:
    text = instruction.strip()
    urls = [url.rstrip(".,;:!?") for url in URL.findall(text)]
    if isinstance(params.get("url"), str):
        urls.insert(0, params["url"])
    # The planner passes the request's address in params and the instruction repeats it: opening
    # it a second time after the actions would throw away what they did.
    urls = list(dict.fromkeys(urls))
    if not urls:
        raise BrowseError("no_url", "no web address in the instruction: include one like https://example.org")
    body = _strip_addresses(text)
    lowered = body.lower()
    actions = [Action("open", urls[0])]
    for clause in _clauses(body):
        actions += _clause_actions(clause)
    unsupported = next((a for a in actions if a.kind == "unsupported" and a.note.startswith("refuse:")), None)
    if unsupported:
        raise BrowseError(
            "not_understood",
            f"cannot do '{unsupported.target}' offline: I can open pages, read text, tables and links, click, "
            "select, check, type into and submit forms, wait for text, follow 'next' pages and take screenshots",
        )
    if (re.search(r"\b(submit|send the form|send it|log ?in|sign ?in)\b", lowered)
            and not any(a.kind in ("submit", "click") for a in actions) and any(a.kind == "fill" for a in actions)):
        actions.append(Action("submit"))
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
    return BrowsePlan(actions, wants, body)


def _strip_addresses(text: str) -> str:
    """The instruction without "open URL and", "on URL", "from URL": what is left is what to do."""
    text = re.sub(r"^\s*(?:open|go to|visit|browse to|navigate to|load)\s+" + URL.pattern + r"[.,;:!?]?\s*(?:and\s+(?:then\s+)?|then\s+|,\s*)?",
                  "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*\b(?:on|at|from|of|in)\s+(?:the\s+page\s+)?" + URL.pattern, "", text, flags=re.IGNORECASE)
    text = URL.sub("", text)
    return re.sub(r"\s+", " ", text).strip(" ,;")


# --- splitting ---------------------------------------------------------------------------------

_QUOTE = re.compile(r"""["“”]([^"“”]*)["“”]|(?<![\w])['‘]([^'‘’]+)['’](?![\w])""")


def _protect(text: str) -> tuple[str, list[str]]:
    """Quoted strings become placeholders so that their commas and verbs do not split clauses."""
    quoted: list[str] = []

    def keep(match: re.Match) -> str:
        quoted.append(match.group(1) if match.group(1) is not None else match.group(2))
        return f"\x00{len(quoted) - 1}\x00"

    return _QUOTE.sub(keep, text), quoted


def _restore(text: str, quoted: list[str]) -> str:
    return re.sub(r"\x00(\d+)\x00", lambda m: quoted[int(m.group(1))], text)


@dataclass
class Clause:
    text: str  # with quoted strings as placeholders \x00n\x00
    quoted: list[str]
    scope: str = ""

    def plain(self) -> str:
        return _restore(self.text, self.quoted)


def _clauses(body: str) -> list[Clause]:
    protected, quoted = _protect(body)
    verbs = "|".join(sorted((re.escape(v) for v in _VERBS), key=len, reverse=True))
    # Sentences, then "then", then a comma or "and" when a verb follows.
    parts = re.split(r"(?<=[.!?;])\s+(?=[A-Z\x00])|;\s*|,?\s*\b(?:and\s+)?then\b\s*,?\s*", protected)
    clauses: list[Clause] = []
    scope = ""
    for part in parts:
        for piece in re.split(r",\s*(?:and\s+)?(?=(?:to\s+)?(?:" + verbs + r")\b)|\s+and\s+(?=(?:" + verbs + r")\b)"
                              r"|,\s*(?=[\w -]{1,30}?\s*(?:=|:)\s*\x00)", part, flags=re.IGNORECASE):
            piece = piece.strip(" ,.!?")
            if not piece:
                continue
            # "For the user @x, click ..." scopes what follows.
            lead = re.match(r"^(?:for|within|inside)\s+(?:the\s+)?(?:user|post|tweet|row|item|entry|section|card|account)?\s*"
                            r"(@?[\w.@-]+|\x00\d+\x00)\s*(?:,\s*(.*))?$", piece, re.IGNORECASE)
            if lead:
                scope = _restore(lead.group(1), quoted)
                piece = (lead.group(2) or "").strip()
                if not piece:
                    continue
            clauses.append(Clause(piece, quoted, scope))
    return clauses


# --- clauses to actions ------------------------------------------------------------------------


def _clause_actions(clause: Clause) -> list[Action]:
    text = re.sub(r"^(?:to\s+|please\s+|now\s+|and\s+|also\s+)+", "", clause.text.strip(), flags=re.IGNORECASE)
    text = re.sub(r"^find and\s+", "", text, flags=re.IGNORECASE)
    plain = _restore(text, clause.quoted)
    first = re.match(r"([\w-]+)", text)
    word = first.group(1).lower() if first else ""
    if _UNSUPPORTED.match(plain):
        return [Action("unsupported", _UNSUPPORTED.match(plain).group(0), note="refuse:")]
    # "log in as alice with password 'x'"
    login = re.search(r"\blog ?in as\s+['\"]?([^\s'\"]+)['\"]?\s+(?:with|and)\s+(?:the\s+)?password\s+['\"]?([^\s'\"]+)['\"]?",
                      plain, re.IGNORECASE)
    if login:
        return [Action("fill", "username", login.group(1), Target("username")),
                Action("fill", "password", login.group(2), Target("password")), Action("submit")]
    # "message: 'Hello'" / "email is 'x'"
    keyed = re.fullmatch(r"(?:the\s+)?([\w -]{1,30}?)\s*(?:=|:|\bis\b)\s*\x00(\d+)\x00", text, re.IGNORECASE)
    if keyed and word not in _VERBS:
        name = keyed.group(1).strip()
        return [Action("fill", name, clause.quoted[int(keyed.group(2))], Target(name))]
    kind = _VERBS.get(word)
    if word in ("log", "sign") and not re.match(r"(?:log|sign)\s*(?:in|on)\b", text, re.IGNORECASE):
        kind = None
    rest = text[first.end():].strip() if first else text
    if kind is None:
        return []  # no verb: nothing to do, the page is read
    handler = _HANDLERS.get(kind)
    if handler is None:
        return [Action("unsupported", plain, note=f"the verb '{word}' is not understood offline")]
    return handler(word, rest, clause)


def _target(words: str, clause: Clause, default_role: str = "") -> Target:
    """A target from words like "the 2nd checkbox", "button ONE", "the link 'ut.'", "Tab #3", "the dialog's x"."""
    words = words.strip(" .,")
    quoted = [clause.quoted[int(n)] for n in re.findall(r"\x00(\d+)\x00", words)]
    scope = clause.scope
    dialog = re.search(r"\b(?:in|of|on|inside)\s+the\s+(?:dialog(?:\s+box)?|popup|pop-up|modal)\b|\bthe\s+dialog(?:'s|\s+box's)\b",
                       words, re.IGNORECASE)
    if dialog:
        scope = "dialog"
        words = (words[:dialog.start()] + " " + words[dialog.end():]).strip()
    ordinal = 0
    match = _ORDINAL_RE.search(words)
    if match:
        ordinal = int(match.group(1)) if match.group(1) else ORDINALS[match.group(2).lower()]
        words = (words[:match.start()] + words[match.end():]).strip()
    role = ""
    unquoted = re.sub(r"\x00\d+\x00", " ", words)
    for found in _ROLE_RE.finditer(unquoted):
        spelled = found.group(1).lower()
        role = next(r for p, r in ROLE_WORDS if re.fullmatch(p, spelled, re.IGNORECASE))
        unquoted = unquoted[:found.start()] + " " * len(found.group(1)) + unquoted[found.end():]
        if role:
            break
    role = role or default_role
    is_any = bool(re.match(r"\s*(?:a|an|any)\b", words, re.IGNORECASE))
    if quoted:
        name = quoted[0]
        if name.lower() in _KIND_NAMES and not role or (name.lower() in _KIND_NAMES and role == ""):
            return Target("", _KIND_NAMES[name.lower()], ordinal, scope, True)
        return Target(name, role, ordinal, scope, is_any)
    # Unquoted: drop filler words; what is left is the name ("button ONE", "Tab #3", "Submit").
    name_words = [w for w in re.findall(r"[#\w][\w#.'&/-]*", unquoted) if w.lower() not in _STOP]
    name = " ".join(name_words).strip(" .")
    if re.fullmatch(r"#?\d+", name) and role:
        name = f"{found_role_word(words)} {name}".strip()
    return Target(name, role, ordinal, scope, is_any)


def found_role_word(words: str) -> str:
    """The role word as spelled, for names with numbers: "Tab #3" is a name, not the 3rd tab."""
    match = _ROLE_RE.search(re.sub(r"\x00\d+\x00", " ", words))
    return match.group(1) if match else ""


def _quoted_values(text: str, clause: Clause) -> list[str]:
    return [clause.quoted[int(n)] for n in re.findall(r"\x00(\d+)\x00", text)]


def _case(text: str) -> str:
    return next((case for pattern, case in _CASES if re.search(pattern, text, re.IGNORECASE)), "")


def _click(word: str, rest: str, clause: Clause) -> list[Action]:
    rest = re.sub(r"^(?:on|at)\s+", "", rest, flags=re.IGNORECASE)
    target = _target(rest, clause)
    label = target.name or target.role
    if not label and not target.ordinal:
        if word == "submit":
            return [Action("submit")]
        return [Action("unsupported", f"{word} {rest}".strip(), note="nothing to click was named")]
    return [Action("click", target.name, spec=target)]


def _select(word: str, rest: str, clause: Clause) -> list[Action]:
    plain = _restore(rest, clause.quoted)
    setting = re.match(r"(-?\d+(?:\.\d+)?)\s+(?:with|on|in|using)\s+the\s+(slider|spinner|spin\s*button)", plain, re.IGNORECASE)
    if setting:
        role = "slider" if setting.group(2).lower() == "slider" else "spinbutton"
        return [Action("set", role, setting.group(1), Target("", role))]
    date = re.match(r"(\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2})\s+as\s+the\s+date", plain, re.IGNORECASE)
    if date:
        return [Action("fill", "date", date.group(1), Target("", "date"))]
    if re.match(r"(?:all\s+)?(?:the\s+)?words?\s+(?:similar|related|close)\s+(?:to|in meaning)", plain, re.IGNORECASE):
        return [Action("unsupported", plain, note="choosing words by meaning needs a thesaurus; "
                                                 "the offline executor only matches names it can see")]
    source = re.search(r"\s+(?:from|in|on|of|using)\s+(?:the\s+)?(.+)$", rest, re.IGNORECASE)
    container = Target()
    if source:
        container = _target(source.group(1), clause)
        rest = rest[:source.start()]
    values = _quoted_values(rest, clause) or [
        v.strip(" .") for v in re.split(r",\s*(?:and\s+)?|\s+and\s+", _restore(rest, clause.quoted)) if v.strip(" .")]
    values = [re.sub(r"^(?:the\s+)?", "", v, flags=re.IGNORECASE) for v in values]
    if len(values) == 1 and ">" in values[0]:  # a menu path: hover the parents, click the item
        path = [p.strip() for p in values[0].split(">") if p.strip()]
        return [*(Action("hover", p, spec=Target(p, "", 0, clause.scope)) for p in path[:-1]),
                Action("click", path[-1], spec=Target(path[-1], "", 0, clause.scope))]
    single = _target(rest, clause)
    if len(values) == 1 and (single.ordinal or (single.role and not single.name)):
        return [Action("check" if single.role in ("checkbox", "radio") else "click", single.name, spec=single)]
    spec = Target(container.name, container.role, 0, clause.scope)
    return [Action("select", ", ".join(values), values[0] if len(values) == 1 else "", spec, options=tuple(values))]


def _check(word: str, rest: str, clause: Clause) -> list[Action]:
    kind = "uncheck" if word.startswith("un") else "check"
    target = _target(rest, clause)
    parts = [p for p in re.split(r",\s*(?:and\s+)?|\s+and\s+", rest) if p.strip(" .")]
    if len(parts) > 1:  # "check 'Pears' and Plums": one action per name
        specs = [_target(p, clause) for p in parts]
        return [Action(kind, s.name, spec=Target(s.name, s.role or target.role, s.ordinal, clause.scope)) for s in specs]
    return [Action(kind, target.name, spec=target)]


def _fill(word: str, rest: str, clause: Clause) -> list[Action]:
    plain = _restore(rest, clause.quoted)
    case = _case(plain)
    rest_nc = re.sub(r"\s*,?\s*\b(?:in|using|with)\s+(?:all\s+)?(?:lower|upper|title|small|capital)[\w\s-]*$", "", rest,
                     flags=re.IGNORECASE)
    if word == "clear":
        target = _target(rest_nc, clause, "textbox")
        return [Action("fill", target.name, "", target)]
    # "fill name with 'Ada'", "set the email to 'x'"
    match = re.match(r"(?:in\s+)?(?P<field>.+?)\s+(?:with|to|as)\s+(?P<value>\x00\d+\x00|\S+)\s*$", rest_nc, re.IGNORECASE)
    if word in ("fill", "set") and match:
        target = _target(match["field"], clause, "textbox")
        return [Action("fill", target.name, _restore(match["value"], clause.quoted), target, case=case)]
    # "enter 10/20/2017 as the date", "enter 7:55 PM as the time"
    match = re.match(r"(?P<value>.+?)\s+as\s+(?:the\s+)?(?P<field>[\w ]+)$", rest_nc, re.IGNORECASE)
    if match:
        target = _target(match["field"], clause, "textbox")
        return [Action("fill", target.name, _restore(match["value"], clause.quoted).strip(), target, case=case)]
    into = re.search(r"\s*\b(?:in|into|to|on|inside)\s+(?P<field>(?:the|a|an|this|that)\b.*|\S+(?:\s+(?:field|box|input))?)$",
                     rest_nc, re.IGNORECASE)
    head = rest_nc[:into.start()] if into else rest_nc
    target = _target(into["field"], clause, "textbox") if into else Target("", "textbox")
    # "the username "x" and the password "y"": one fill per labelled value.
    labelled = re.findall(r"(?:the\s+)?([A-Za-z][\w -]{0,25}?)\s+\x00(\d+)\x00", head)
    if len(labelled) > 1:
        labels = [re.sub(r"^(?:and\s+|,\s*)?(?:the\s+)?", "", label.strip(), flags=re.IGNORECASE) for label, _ in labelled]
        return [Action("fill", label, clause.quoted[int(n)], Target(label, "textbox", 0, clause.scope), case=case)
                for label, (_, n) in zip(labels, labelled, strict=True)]
    values = _quoted_values(head, clause)
    if values:
        return [Action("fill", target.name, values[0], target, case=case)]
    # Values read off the page: "type that", "paste it", "the value of Language", "the text below".
    of = re.match(r"(?:the\s+)?value\s+(?:of|for)\s+(.+)$", head.strip(), re.IGNORECASE)
    if of:
        key = _restore(of.group(1), clause.quoted).strip(" .")
        return [Action("find", "value", key, Target(key), source="var:value"),
                Action("fill", target.name, "", target, source="var:value", case=case)]
    if re.fullmatch(r"\s*(?:the\s+)?(?:text|words?|string|characters?|letters?)\s+(?:below|above|shown|displayed)\b.*", head,
                    re.IGNORECASE):
        return [Action("find", "text", "the text shown", source="var:text"),
                Action("fill", target.name, "", target, source="var:text", case=case)]
    if re.fullmatch(r"\s*(?:that|it|this|them|the\s+(?:word|text|value|result|answer|copied text)|what you (?:found|copied))?\s*",
                    head, re.IGNORECASE):
        return [Action("fill", target.name, "", target, source="var:last", case=case)]
    value = _restore(head, clause.quoted).strip(" .")
    value = re.sub(r"^(?:the\s+)?(?:number|text|word|value|string)\s+", "", value, flags=re.IGNORECASE)
    return [Action("fill", target.name, value, target, case=case)]


def _find(word: str, rest: str, clause: Clause) -> list[Action]:
    plain = _restore(rest, clause.quoted)
    match = re.match(r"(?:the\s+)?(?:(\d+)(?:st|nd|rd|th)|(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last))"
                     r"\s+(word|letter|character|number|line|sentence)\b", plain, re.IGNORECASE)
    if match:
        n = int(match.group(1)) if match.group(1) else ORDINALS[match.group(2).lower()]
        return [Action("find", f"{match.group(3).lower()}:{n}", f"the {_nth(n)} {match.group(3).lower()}", source="var:last")]
    of = re.match(r"(?:the\s+)?value\s+(?:of|for)\s+(.+)$", plain, re.IGNORECASE)
    if of:
        return [Action("find", "value", of.group(1).strip(" ."), Target(of.group(1).strip(" .")), source="var:value")]
    # "find and click ..." was handled; "find X" alone reads the page.
    return []


def _copy(word: str, rest: str, clause: Clause) -> list[Action]:
    rest = re.sub(r"^(?:the\s+)?(?:text|value|contents?|words?)\s+(?:in|of|from)\s+", "", rest, flags=re.IGNORECASE)
    target = _target(rest, clause)
    return [Action("copy", target.name, "", target, source="var:last")]


def _focus(word: str, rest: str, clause: Clause) -> list[Action]:
    rest = re.sub(r"^(?:on|into|in|to)\s+", "", rest, flags=re.IGNORECASE)
    target = _target(rest, clause)
    return [Action("focus", target.name, spec=target)]


def _simple(kind: str):
    def handler(word: str, rest: str, clause: Clause) -> list[Action]:
        rest = re.sub(r"^(?:over|on|to|down to|up to|into)\s+", "", rest, flags=re.IGNORECASE)
        plain = re.sub(r"\x00\d+\x00", "", rest)
        unnamed = kind in ("expand", "collapse") and not _quoted_values(rest, clause)
        section = re.fullmatch(r"\s*(all\s+)?(?:the\s+|a\s+|each\s+|every\s+)?(?:(sections|panels)|sections?|panels?)?\s*"
                               r"(?:below|above|here|on the page)?\s*", plain, re.IGNORECASE)
        if unnamed and section:  # a real action on the page's collapsible sections, never a hint
            every = bool(section.group(1) or section.group(2))
            return [Action(kind, "", spec=Target("", "section"), options=("all",) if every else ())]
        if unnamed and re.fullmatch(r"\s*(?:all\s+)?(?:the\s+)?(?:items?|tabs?|folders?|menus?)\s*(?:below|above|here)?\s*",
                                    plain, re.IGNORECASE):
            return [Action("explore", f"{word} {rest}".strip())]
        target = _target(rest, clause)
        return [Action(kind, target.name, spec=target)]
    return handler


def _wait(word: str, rest: str, clause: Clause) -> list[Action]:
    values = _quoted_values(rest, clause)
    if values:
        return [Action("wait", values[0])]
    seconds = re.search(r"(\d+(?:\.\d+)?)\s*(?:s|sec|seconds?)\b", rest)
    return [Action("wait", "", seconds.group(1))] if seconds else []


def _login(word: str, rest: str, clause: Clause) -> list[Action]:
    return [Action("click", "log in", spec=Target("log in", "button"))] if not rest.strip(" .") else []


def _search(word: str, rest: str, clause: Clause) -> list[Action]:
    values = _quoted_values(rest, clause)
    if values:
        return [Action("fill", "search", values[0], Target("search", "textbox")), Action("submit")]
    plain = _restore(rest, clause.quoted)
    return [Action("search", plain.strip(" ."))]


def _explore(word: str, rest: str, clause: Clause) -> list[Action]:
    return [Action("explore", f"{word} {_restore(rest, clause.quoted)}".strip())]


def _scroll(word: str, rest: str, clause: Clause) -> list[Action]:
    rest = re.sub(r"^(?:down\s+|up\s+)?(?:to|until)\s+", "", rest, flags=re.IGNORECASE)
    if re.fullmatch(r"\s*(?:down|up|(?:the\s+)?(?:bottom|top)(?:\s+of the page)?)?\s*", rest, re.IGNORECASE):
        return [Action("scroll", "bottom" if "up" not in rest and "top" not in rest else "top")]
    target = _target(rest, clause)
    return [Action("scroll", target.name, spec=target)]


def _read(word: str, rest: str, clause: Clause) -> list[Action]:
    return []


_HANDLERS = {
    "click": _click, "select": _select, "check": _check, "uncheck": _check, "fill": _fill, "find": _find,
    "copy": _copy, "focus": _focus, "hover": _simple("hover"), "expand": _simple("expand"),
    "collapse": _simple("collapse"), "scroll": _scroll, "submit": lambda w, r, c: _click(w, r, c) if r.strip(" .") else [Action("submit")],
    "wait": _wait, "login": _login, "search": _search, "explore": _explore, "read": _read,
}


def _nth(n: int) -> str:
    if n == -1:
        return "last"
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
