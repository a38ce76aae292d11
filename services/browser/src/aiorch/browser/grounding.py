"""Grounding: which element of the page a target in words means.

One round trip collects the page's elements (role, accessible name, label, visible text,
visibility, geometry); scoring happens here. Text matching is case-insensitive and prefers
the whole name, then whole words, then a substring, then a fuzzy match; the role asked for,
a scope ("in the dialog", "for the user @x") and ordinals narrow the choice. The instruction's
own echo on the page (many pages repeat the task) is never a candidate."""

import difflib
import re
from dataclasses import dataclass, field

from .plan import Target

COLLECT = r"""
(instruction) => {
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
  const words = (s) => norm(s).toLowerCase().match(/[\p{L}\p{N}@#]+/gu) || [];
  const want = new Set(words(instruction));
  const skip = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "HEAD", "META", "LINK", "BR", "HR", "svg", "path"]);
  // The instruction's echo: the smallest element whose words are mostly the instruction's.
  let echo = null;
  if (want.size >= 3) {
    for (const el of document.body ? document.body.querySelectorAll("*") : []) {
      if (skip.has(el.tagName)) continue;
      const w = words(el.textContent);
      if (w.length < want.size * 0.6 || w.length > want.size * 1.6 + 2) continue;
      const hits = w.filter((x) => want.has(x)).length;
      if (hits >= w.length * 0.8 && hits >= want.size * 0.6) echo = el;  // document order: the deepest wins
    }
  }
  const textOf = (el) => {
    let own = "";
    for (const n of el.childNodes) if (n.nodeType === 3) own += n.textContent;
    return norm(own);
  };
  const roleOf = (el) => {
    const explicit = (el.getAttribute("role") || "").split(" ")[0];
    if (explicit) return explicit;
    const tag = el.tagName.toLowerCase(), type = (el.getAttribute("type") || "").toLowerCase();
    if (tag === "a") return "link";
    if (tag === "button" || tag === "summary") return "button";
    if (tag === "select") return el.multiple || el.size > 1 ? "listbox" : "combobox";
    if (tag === "option") return "option";
    if (tag === "textarea") return "textarea";
    if (tag === "input") {
      if (["button", "submit", "reset", "image"].includes(type)) return "button";
      if (type === "checkbox" || type === "radio") return type;
      if (type === "range") return "slider";
      if (type === "number") return "spinbutton";
      if (["date", "time", "datetime-local", "month", "week"].includes(type)) return type === "time" ? "time" : "date";
      if (type === "hidden" || type === "file" || type === "color") return type;
      return "textbox";
    }
    if (el.isContentEditable && !(el.parentElement && el.parentElement.isContentEditable)) return "textbox";
    if (/^h[1-6]$/.test(tag)) return "heading";
    if (tag === "label") return "label";
    if (tag === "td" || tag === "th") return "cell";
    if (tag === "li") return "listitem";
    if (tag === "p") return "paragraph";
    if (tag === "img") return "img";
    return "";
  };
  const labelOf = (el) => {
    const parts = [];
    const by = el.getAttribute("aria-labelledby");
    if (by) for (const id of by.split(" ")) { const l = document.getElementById(id); if (l) parts.push(norm(l.textContent)); }
    if (el.labels) for (const l of el.labels) parts.push(norm(l.textContent));
    // A label just before the field (a sibling, or the previous cell of its row).
    let prev = el.previousElementSibling;
    if (prev && ["LABEL", "SPAN", "B", "STRONG", "TH", "TD", "DIV"].includes(prev.tagName) && norm(prev.textContent).length < 40)
      parts.push(norm(prev.textContent));
    const cell = el.closest("td, th");
    if (cell && cell.previousElementSibling) parts.push(norm(cell.previousElementSibling.textContent));
    const wrap = el.parentElement;  // a field alone in a wrapper, labelled by the wrapper's previous sibling
    if (wrap && wrap.children.length === 1 && wrap.previousElementSibling && !wrap.previousElementSibling.querySelector("input, textarea, select")
        && norm(wrap.previousElementSibling.textContent).length < 40) parts.push(norm(wrap.previousElementSibling.textContent));
    const next = el.nextElementSibling;  // a label placed after the field (not another field's label)
    if (!parts.length && next && ["LABEL", "SPAN", "DIV"].includes(next.tagName) && !next.htmlFor && !next.querySelector("input, textarea, select, button")
        && norm(next.textContent).length && norm(next.textContent).length < 30) parts.push(norm(next.textContent));
    const before = el.previousSibling;
    if (before && before.nodeType === 3 && norm(before.textContent)) parts.push(norm(before.textContent));
    return parts.filter(Boolean).map((p) => p.replace(/[:*]\s*$/, "")).slice(0, 4);
  };
  const out = [];
  let counter = 0;
  const all = document.body ? document.body.querySelectorAll("*") : [];
  for (const el of all) {
    if (skip.has(el.tagName) || out.length >= 4000) continue;
    const role = roleOf(el);
    const style = getComputedStyle(el);
    const own = textOf(el);
    const clickable = style.cursor === "pointer" || el.hasAttribute("onclick") || el.hasAttribute("tabindex");
    const interactive = ["link", "button", "checkbox", "radio", "textbox", "textarea", "combobox", "listbox", "option",
                         "slider", "spinbutton", "date", "time", "tab", "menuitem", "treeitem", "switch",
                         "menuitemcheckbox", "menuitemradio", "searchbox"].includes(role);
    const named = el.getAttribute("aria-label") || el.getAttribute("title") || el.getAttribute("alt");
    const rect = el.getBoundingClientRect();
    const icon = !own && !interactive && el.children.length === 0 && rect.width > 0 && rect.width < 80 && rect.height < 80
                 && (el.className && typeof el.className === "string");
    if (!own && !interactive && !named && !icon && !clickable && !(role === "dialog" || role === "alertdialog")) continue;
    if (echo && (echo === el || echo.contains(el))) continue;
    if (!el.dataset.aiorchId) el.dataset.aiorchId = String(++counter) + "-" + Math.random().toString(36).slice(2, 6);
    const visible = el.checkVisibility ? el.checkVisibility({opacityProperty: true, visibilityProperty: true}) && rect.width > 0 && rect.height > 0
                                       : rect.width > 0 && rect.height > 0;
    const enabled = !(el.disabled || el.closest("fieldset[disabled], [aria-disabled=true]"));
    const full = norm(visible ? el.innerText : el.textContent).slice(0, 300);
    const ancestors = [];
    for (let p = el.parentElement; p && p !== document.body && ancestors.length < 10; p = p.parentElement) {
      if (!p.dataset.aiorchId) p.dataset.aiorchId = "a" + (++counter) + "-" + Math.random().toString(36).slice(2, 6);
      ancestors.push(p.dataset.aiorchId);
    }
    const isInput = ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
    out.push({
      id: el.dataset.aiorchId, tag: el.tagName.toLowerCase(), role, own, full, interactive, clickable,
      aria: norm(el.getAttribute("aria-label")), title: norm(el.getAttribute("title")), alt: norm(el.getAttribute("alt")),
      placeholder: norm(el.getAttribute("placeholder")), value: isInput ? String(el.value || "") : "",
      attrs: norm([el.getAttribute("name"), el.id].filter(Boolean).join(" ")),
      classes: typeof el.className === "string" ? el.className : "",
      labels: isInput ? labelOf(el) : (el.getAttribute("aria-labelledby") ? labelOf(el).slice(0, 1) : []),
      visible, enabled, readonly: !!el.readOnly, checked: !!el.checked,
      underline: style.textDecorationLine.includes("underline"),
      x: rect.x + window.scrollX, y: rect.y + window.scrollY, w: rect.width, h: rect.height,
      ancestors, dialog: !!el.closest("[role=dialog], [role=alertdialog], dialog, [aria-modal=true]"),
      options: el.tagName === "SELECT" ? [...el.options].map((o) => norm(o.textContent)) : [],
    });
  }
  return {candidates: out, echo: echo ? norm(echo.textContent) : ""};
}
"""

# Roles that satisfy a wanted role (first: exact; then compatible ones, weaker).
_COMPATIBLE = {
    "button": {"button"}, "link": {"link"}, "checkbox": {"checkbox", "switch", "menuitemcheckbox"},
    "radio": {"radio", "menuitemradio"}, "textbox": {"textbox", "searchbox"}, "textarea": {"textarea"},
    "listbox": {"listbox", "combobox"}, "tab": {"tab"}, "slider": {"slider"}, "spinbutton": {"spinbutton"},
    "date": {"date"}, "time": {"time"}, "dialog": {"dialog", "alertdialog"},
}
_NEAR = {
    "button": {"link", "menuitem", "tab", "option", "treeitem"}, "link": {"button", "menuitem", "tab", "treeitem"},
    "textbox": {"textarea", "date", "time", "spinbutton", "combobox"}, "textarea": {"textbox"},
    "date": {"textbox"}, "time": {"textbox"}, "spinbutton": {"textbox"}, "tab": {"link", "button"},
    "listbox": {"option"}, "checkbox": {"label"}, "radio": {"label"},
}
FIELD_ROLES = {"textbox", "searchbox", "textarea", "date", "time", "spinbutton", "combobox"}
# What icon-only controls are called: "the dialog's x" is its close button.
_SYNONYMS = {"x": ["close", "×", "✕", "✖", "dismiss"], "close": ["x", "×", "✕"], "login": ["log in", "sign in"],
             "log in": ["login", "sign in"], "sign in": ["log in", "login"], "ok": ["okay"], "search": ["find", "go"]}


@dataclass
class Candidate:
    data: dict
    score: float = 0.0
    why: str = ""

    @property
    def id(self) -> str:
        return self.data["id"]

    def label(self) -> str:
        d = self.data
        name = d["aria"] or (d["labels"][0] if d["labels"] else "") or d["full"] or d["placeholder"] or d["title"] \
            or d["value"] or d["alt"] or d["classes"]
        return f"{d['role'] or d['tag']} '{name[:60]}'"


@dataclass
class Grounding:
    best: Candidate | None
    hidden: Candidate | None = None
    """A better match that is not visible yet (in a collapsed section, another tab, a menu)."""
    ambiguous: list[Candidate] = field(default_factory=list)
    closest: list[str] = field(default_factory=list)


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", (text or "")).strip().lower()


def _bare(text: str) -> str:
    return re.sub(r"[^\w@#]+", "", text.lower())


def match(target: str, text: str) -> float:
    """How well a name in the instruction matches a text on the page, 0..1."""
    t, s = norm(target), norm(text)
    if not t or not s:
        return 0.0
    if t == s:
        return 1.0
    if _bare(t) and _bare(t) == _bare(s):
        return 0.92
    if len(s) <= 300 and re.search(r"(?<![\w@#])" + re.escape(t) + r"(?![\w])", s):
        return max(0.55, 0.8 - 0.25 * (len(s) - len(t)) / max(len(s), 1))
    if len(t) >= 3 and t in s and len(s) <= 300:
        return 0.4 * len(t) / len(s) + 0.1
    if len(t) >= 4 and len(s) <= 60:
        ratio = difflib.SequenceMatcher(None, t, s).ratio()
        if ratio >= 0.8:
            return 0.45 * ratio
    return 0.0


def name_score(name: str, d: dict) -> tuple[float, str]:
    """The best match of a name against an element's names, with where it matched."""
    names = [name] + _SYNONYMS.get(norm(name), [])
    sources = [(d["aria"], 1.0, "aria-label"), (d["title"], 0.95, "title"), (d["alt"], 0.95, "alt"),
               (d["placeholder"], 0.9, "placeholder"), (d["value"] if d["role"] == "button" else "", 1.0, "value")]
    sources += [(label, 0.97 - 0.05 * index, "label") for index, label in enumerate(d["labels"])]
    if d["role"] not in FIELD_ROLES:
        sources += [(d["full"], 1.0, "text"), (d["own"], 1.0, "text")]
    sources += [(d["attrs"].replace("-", " ").replace("_", " "), 0.6, "name attribute")]
    if not d["own"] and not d["full"]:
        sources += [(c.replace("-", " ").replace("_", " "), 0.7, "class") for c in d["classes"].split()]
    best, why = 0.0, ""
    for index, candidate in enumerate(names):
        for text, weight, where in sources:
            score = match(candidate, text) * weight * (1.0 if index == 0 else 0.9)
            if score > best:
                best, why = score, where
    return best, why


def role_score(wanted: str, role: str, d: dict) -> float:
    if not wanted:
        return 0.0
    if role in _COMPATIBLE.get(wanted, {wanted}):
        return 0.35
    if role in _NEAR.get(wanted, set()):
        return 0.15
    if wanted == "link" and (d["underline"] or d["clickable"]) and d["own"]:
        return 0.2
    if wanted in ("button", "tab") and d["clickable"]:
        return 0.1
    if wanted in ("date", "time") and role == "textbox":
        return 0.15
    if wanted in ("slider", "spinbutton", "tab", "dialog", "button") and wanted[:5] in (d["classes"] + " " + d["attrs"]).lower():
        return 0.3  # a custom widget whose class or id names its kind (a slider handle, a tab)
    return -0.3


def ground(candidates: list[dict], target: Target, purpose: str, exclude: set[str] = frozenset()) -> Grounding:
    """The element the target means; `purpose` (click, fill, check, select, hover, read) favours the fitting roles."""
    role = target.role
    if not role:
        role = {"fill": "textbox", "check": "checkbox", "uncheck": "checkbox"}.get(purpose, "")
    pool = [Candidate(d) for d in candidates if d["id"] not in exclude and d["role"] not in ("hidden",)]
    if purpose in ("fill", "focus") and target.role in FIELD_ROLES | {"date", "time", ""} and not target.name:
        pool = [c for c in pool if c.data["role"] in FIELD_ROLES | {"date", "time"} or c.data["role"] == role]
    if target.scope:
        pool = _scoped(pool, candidates, target)
    scored: list[Candidate] = []
    for c in pool:
        d = c.data
        named, why = name_score(target.name, d) if target.name else (0.0, "")
        if target.name and named < 0.3:
            continue
        rs = role_score(role, d["role"], d)
        if not target.name and rs <= 0:
            continue
        c.score = (named if target.name else 0.6) + rs + (0.05 if d["interactive"] else 0.0)
        if purpose in ("fill", "focus", "set") and d["role"] not in FIELD_ROLES | {"date", "time", "slider"}:
            c.score -= 0.4
        if purpose in ("check", "uncheck", "select") and d["role"] in ("checkbox", "radio", "switch", "option"):
            c.score += 0.1
        if purpose == "click" and target.name and d["role"] in FIELD_ROLES:
            c.score -= 0.25  # a field whose label matches is rarely what "click X" means
        if target.scope == "dialog" and d["dialog"]:
            c.score += 0.2
        c.why = why
        scored.append(c)
    for strict in (True, False):
        if target.name and any(_exact(target.name, c.data, strict) for c in scored):
            # The name as written (case and punctuation included; else case aside) is on the page, maybe still
            # hidden: a near spelling ("ut." or "Ut" for "ut") is a different element.
            for c in scored:
                if not _exact(target.name, c.data, strict):
                    c.score -= 0.3
            break
    scored = _prefer_innermost(scored)
    visible = [c for c in scored if c.data["visible"] and c.data["enabled"]]
    closest = [c.label() for c in sorted(scored, key=lambda c: -c.score)[:5]]
    if not closest:
        closest = _nearby_names(candidates, target, role)
    if target.ordinal:
        ordered = sorted((c for c in scored if c.data["visible"] and c.score > 0.3),
                         key=lambda c: (c.data["y"] // 4, c.data["x"]))
        if role:
            ordered = [c for c in ordered if role_score(role, c.data["role"], c.data) >= 0.35] or ordered
        index = target.ordinal - 1 if target.ordinal > 0 else len(ordered) - 1
        if 0 <= index < len(ordered):
            return Grounding(ordered[index], closest=closest)
        return Grounding(None, closest=[c.label() for c in ordered] or closest)
    if not scored:
        return Grounding(None, closest=closest)
    top = max(scored, key=lambda c: c.score)
    best_visible = max(visible, key=lambda c: c.score) if visible else None
    hidden = top if (not top.data["visible"]) and (best_visible is None or top.score > best_visible.score + 0.05) else None
    if best_visible is None:
        return Grounding(None, hidden=hidden, closest=closest)
    ties = [c for c in visible if c is not best_visible and abs(c.score - best_visible.score) < 0.01
            and best_visible.id not in c.data["ancestors"] and c.id not in best_visible.data["ancestors"]]
    if ties and not target.any and not target.ordinal:
        return Grounding(None, hidden=hidden, ambiguous=[best_visible, *ties[:3]], closest=closest)
    return Grounding(best_visible, hidden=hidden, closest=closest)


def _exact(name: str, d: dict, strict: bool = False) -> bool:
    """The element's own name or text is the name exactly, punctuation included (strict: case too)."""
    same = (lambda text: " ".join(text.split())) if strict else norm
    wanted = same(name)
    texts = [d["aria"], d["title"], d["alt"], d["own"], d["full"], *d["labels"]]
    if d["role"] == "button":
        texts.append(d["value"])
    return any(same(t) == wanted for t in texts if t)


def _prefer_innermost(scored: list[Candidate]) -> list[Candidate]:
    """An element and its container both match ("<li><div>Name</div><ul>…"): keep the better, and on a tie the
    interactive one, else the innermost."""
    by_id = {c.id: c for c in scored}
    dropped = set()
    for c in scored:
        for ancestor_id in c.data["ancestors"]:
            a = by_id.get(ancestor_id)
            if a is None or a.id in dropped or c.id in dropped:
                continue
            if a.score > c.score + 0.02:
                if not (c.data["interactive"] and not a.data["interactive"]):
                    dropped.add(c.id)
                elif a.score > c.score + 0.3:
                    dropped.add(c.id)
                else:
                    dropped.add(a.id)
            elif a.data["interactive"] and not c.data["interactive"] and a.score >= c.score - 0.1:
                dropped.add(c.id)
            else:
                dropped.add(a.id)
    return [c for c in scored if c.id not in dropped]


def _scoped(pool: list[Candidate], candidates: list[dict], target: Target) -> list[Candidate]:
    """Only candidates inside the smallest container that holds the scope text ("@user") or a dialog."""
    if target.scope == "dialog":
        inside = [c for c in pool if c.data["dialog"]]
        return inside or pool
    anchors = [d for d in candidates if d["visible"] and re.search(
        r"(?<![\w@])" + re.escape(norm(target.scope)) + r"(?![\w])", norm(d["own"] or d["full"]))]
    if not anchors:
        return pool
    anchor = min(anchors, key=lambda d: len(d["full"]))
    # Climb the anchor's containers until one holds a candidate that matches the name.
    chain = [anchor["id"], *anchor["ancestors"]]
    for container in chain:
        inside = [c for c in pool if container in c.data["ancestors"] or c.id == container]
        if any(name_score(target.name, c.data)[0] >= 0.5 for c in inside) if target.name else inside:
            return inside
    return pool


def _nearby_names(candidates: list[dict], target: Target, role: str) -> list[str]:
    """What the page offers instead, for the failure message: elements of the role, else interactive ones."""
    pool = [d for d in candidates if d["visible"] and (d["role"] in _COMPATIBLE.get(role, {role}) if role else d["interactive"])]
    pool = pool or [d for d in candidates if d["visible"] and d["interactive"]]
    return [Candidate(d).label() for d in pool[:6]]
