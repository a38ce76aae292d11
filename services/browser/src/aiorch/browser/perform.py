"""Carries out one planned action on the page as it stands, and says honestly whether it was done."""

import asyncio
import datetime as dt
import re
from dataclasses import dataclass, field

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from . import pagejs
from .grounding import COLLECT, FIELD_ROLES, Candidate, Grounding, ground, match, norm
from .plan import Action, Target

_DISMISS = ["cancel", "close", "x", "×", "no", "no thanks", "not now", "dismiss", "later", "skip"]
_SUBMIT_WORDS = {"submit", "login", "log in", "sign in", "send", "go", "ok", "done", "continue", "search", "save", "next"}
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]
CLICK_TIMEOUT_MS = 2500


@dataclass
class Step:
    """One planned action's outcome (becomes aiorch.contracts.BrowserAction)."""

    kind: str
    description: str
    status: str = "done"  # done, not_done, skipped
    reason: str = ""
    target: str = ""
    candidates: list[str] = field(default_factory=list)
    code: str = ""  # the failure code when not done: element_not_found, ambiguous, not_understood, failed


class NotDone(Exception):
    def __init__(self, code: str, reason: str, candidates: list[str] | None = None) -> None:
        super().__init__(reason)
        self.code, self.reason, self.candidates = code, reason, candidates or []


class Performer:
    def __init__(self, page: Page, instruction: str) -> None:
        self.page = page
        self.instruction = instruction
        self.echo = ""
        self.values: dict[str, str] = {}
        self.last_field: str | None = None
        self.used_sources: set[str] = set()
        self.notes: list[str] = []

    # --- the page ---------------------------------------------------------------------------

    async def settle(self) -> None:
        """Wait for a navigation the action started, then for two frames (event handlers and re-renders)."""
        try:
            await self.page.wait_for_load_state("load", timeout=5000)
            await self.page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        except PlaywrightError:
            pass  # a page that never settles is read as it is

    async def collect(self) -> list[dict]:
        for _ in range(3):
            try:
                data = await self.page.evaluate(COLLECT, self.instruction)
                self.echo = data["echo"]
                return data["candidates"]
            except PlaywrightError as exc:  # navigated away mid-read: read the new page
                if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                    raise
                await self.settle()
        return []

    def loc(self, element_id: str):
        return self.page.locator(f'[data-aiorch-id="{element_id}"]')

    async def locate(self, target: Target, purpose: str, exclude: set[str] = frozenset()) -> Candidate:
        """The element, revealing hidden content (tabs, collapsed sections, menus) when the match is hidden."""
        opened: list[str] = []
        waited = False
        for _ in range(6):
            grounding = ground(await self.collect(), target, purpose, exclude)
            if grounding.best is None and grounding.hidden is None and not grounding.ambiguous and not waited:
                waited = True  # content still arriving (images, scripts): look once more
                await asyncio.sleep(0.4)
                continue
            if grounding.hidden is not None:
                opener = await self.page.evaluate(pagejs.OPENER, grounding.hidden.id)
                if opener and opener["id"] not in opened:
                    opened.append(opener["id"])
                    await self._open(opener["id"], grounding.hidden.id, opener.get("control", False))
                    self.notes.append(f"opened '{opener['text']}'")
                    continue
            return self._chosen(grounding, target)
        return self._chosen(grounding, target)

    def _chosen(self, grounding: Grounding, target: Target) -> Candidate:
        if grounding.best is not None:
            return grounding.best
        if grounding.ambiguous:
            raise NotDone("ambiguous", f"'{target.words()}' matches {len(grounding.ambiguous)} elements equally well: "
                          + " and ".join(c.label() for c in grounding.ambiguous), [c.label() for c in grounding.ambiguous])
        where = "visible and enabled " if grounding.hidden else ""
        raise NotDone("element_not_found", f"no {where}element for {target.words()} on {self.page.url}", grounding.closest)

    async def _open(self, opener: str, hidden: str, control: bool = False) -> None:
        """Hover the opener (menus), then click it if that did not show the target (tabs, sections, trees); a
        control that says what it opens (a tab, a disclosure header) is clicked at once."""
        for how in ("click",) if control else ("hover", "click"):
            try:
                if how == "hover":
                    await self.loc(opener).hover(timeout=CLICK_TIMEOUT_MS)
                else:
                    await self.loc(opener).click(timeout=CLICK_TIMEOUT_MS)
                await self.page.wait_for_function(pagejs.VISIBLE, arg=hidden, timeout=500 if how == "hover" else 1500)
                return
            except PlaywrightError:
                continue

    async def click(self, element_id: str) -> str:
        """Click like a person; if something covers the element, dismiss a popup or click it by script."""
        try:
            await self.loc(element_id).click(timeout=CLICK_TIMEOUT_MS)
            return ""
        except PlaywrightError as exc:
            if "intercepts pointer events" in str(exc) and await self.dismiss_popup():
                await self.loc(element_id).click(timeout=CLICK_TIMEOUT_MS)
                return "dismissed a popup first"
            await self.loc(element_id).evaluate("el => el.click()")
            return "clicked by script (the element did not take a pointer click)"

    async def dismiss_popup(self) -> str:
        """A popup that appeared over the page (not asked for): close it with its cancel/close button."""
        candidates = await self.collect()
        buttons = [d for d in candidates if d["visible"] and d["enabled"] and d["role"] in ("button", "link", "")
                   and (d["own"] or d["full"] or d["aria"] or d["title"] or d["value"])]
        for word in _DISMISS:
            for d in buttons:
                names = [d["aria"], d["title"], d["full"], d["value"]]
                if any(norm(n) == word for n in names if n):
                    await self.loc(d["id"]).click(timeout=CLICK_TIMEOUT_MS)
                    await self.settle()
                    self.notes.append(f"dismissed a popup with '{word}'")
                    return word
        return ""

    # --- actions ----------------------------------------------------------------------------

    async def perform(self, action: Action) -> Step:
        step = Step(action.kind, action.describe())
        self.notes = []
        try:
            handler = getattr(self, f"do_{action.kind}", None)
            if action.kind == "unsupported" or handler is None:
                raise NotDone("not_understood", action.note or f"'{action.kind}' is not an action the offline executor knows")
            step.target = await handler(action) or ""
            await self.settle()
        except _Skip as skipped:
            step.status, step.reason = "skipped", skipped.reason
        except NotDone as failure:
            step.status, step.code, step.reason, step.candidates = "not_done", failure.code, failure.reason, failure.candidates
        except PlaywrightError as exc:
            step.status, step.code = "not_done", "failed"
            step.reason = f"the browser could not {action.describe()}: {str(exc).splitlines()[0][:200]}"
        if self.notes:
            step.reason = "; ".join([*self.notes, step.reason] if step.reason else self.notes)
        return step

    async def do_search(self, action: Action) -> str:
        """"Search for drama movies directed by Hale from year 1984": each empty field takes the value the
        description gives next to a word like its label (directed ~ Director, year ~ Year); one field left over
        takes the first unused word after "for". Then the form's Search/Submit control is clicked."""
        candidates = await self.collect()
        fields = [d for d in candidates if d["visible"] and d["enabled"] and d["role"] in ("textbox", "searchbox")
                  and not d["value"]]
        if not fields:
            raise NotDone("element_not_found", f"no empty field to search with on {self.page.url}")
        tokens = re.findall(r"[\w'-]+", action.target)
        used: set[int] = set()
        filled: dict[str, str] = {}
        for d in fields:
            label_words = [w for label in d["labels"] + [d["placeholder"], d["aria"]] for w in re.findall(r"\w+", label.lower())]
            for i, token in enumerate(tokens):
                if i in used or not any(_stem_like(token.lower(), w) for w in label_words):
                    continue
                j = i + 1
                while j < len(tokens) and tokens[j].lower() in ("by", "of", "from", "in", "is", "the", "a", "an", "on"):
                    j += 1
                if j < len(tokens) and j not in used:
                    used.update({i, j})
                    filled[d["id"]] = tokens[j]
                break
        left = [d for d in fields if d["id"] not in filled]
        if len(left) == 1 and tokens and tokens[0].lower() == "for":
            rest = [t for k, t in enumerate(tokens[1:], 1) if k not in used]
            if rest:
                filled[left[0]["id"]] = rest[0]
                left = []
        if left or not filled:
            raise NotDone("not_understood", "cannot tell which part of the description goes into "
                          + ", ".join(Candidate(d).label() for d in left or fields), [Candidate(d).label() for d in fields])
        for field_id, value in filled.items():
            await self.loc(field_id).fill(value, timeout=CLICK_TIMEOUT_MS)
        self.last_field = next(iter(filled))
        names = {d["id"]: Candidate(d).label() for d in fields}
        candidates = await self.collect()
        controls = []
        for word in ("search", "submit", "find", "go"):
            best = ground(candidates, Target(word), "click").best
            if best is not None and norm(best.data["full"] or best.data["value"]) == word:
                controls.append(best)
        if not controls:
            raise NotDone("element_not_found", "filled the form but found no control named Search or Submit",
                          _nearby(candidates))
        await self.click(controls[0].id)
        return "; ".join(f"{names[i]} = '{v}'" for i, v in filled.items()) + f"; then {controls[0].label()}"

    async def do_explore(self, action: Action) -> str:
        """Only reached when no action follows (the executor folds it into the next one): nothing to look for."""
        raise NotDone("not_understood", "nothing named to look for: say what to find or click")

    async def do_click(self, action: Action) -> str:
        try:
            found = await self._locate_click(action)
        except NotDone:
            if norm(action.spec.name) in _SUBMIT_WORDS:  # "press login" on a form whose button says "OK"
                button = await self.page.evaluate(pagejs.FORM_BUTTON, self.last_field)
                if button:
                    note = await self.click(button["id"])
                    self.notes.append(f"no '{action.spec.name}' control; clicked the form's button '{button['text']}'"
                                      + (f" ({note})" if note else ""))
                    return f"button '{button['text']}'"
            raise
        if not found.data["full"] and not found.data["interactive"]:
            # An icon may swap its image on hover; let that happen before the click lands.
            await self.loc(found.id).hover(timeout=CLICK_TIMEOUT_MS)
            await asyncio.sleep(0.15)
        before = await self.loc(found.id).evaluate(pagejs.STATE)
        note = await self.click(found.id)
        if note:
            self.notes.append(note)
        await self._verify_click(found, before)
        return found.label()

    async def _verify_click(self, found: Candidate, before: dict) -> None:
        """Where the page says what a click should do (a tab becomes selected, a checkbox or radio changes),
        check that it did."""
        if before["selected"] is None and before["checked"] is None:
            return
        await self.settle()
        try:
            after = await self.loc(found.id).evaluate(pagejs.STATE, timeout=1000)
        except PlaywrightError:
            return  # the element went away with the click (a new page, a re-render): nothing left to check
        if before["selected"] is not None and after["selected"] is not None and after["selected"] != "true":
            raise NotDone("failed", f"{found.label()} is not selected after the click")
        if before["checked"] is not None and after["checked"] == before["checked"] and found.data["role"] != "radio":
            raise NotDone("failed", f"{found.label()} did not change when clicked")
        if found.data["role"] == "radio" and after["checked"] is False:
            raise NotDone("failed", f"{found.label()} is not selected after the click")

    async def _locate_click(self, action: Action) -> Candidate:
        try:
            return await self.locate(action.spec, "click")
        except NotDone as failure:
            if failure.code == "element_not_found" and action.spec.name:
                failure.reason = f"nothing to click named '{action.spec.name}' on {self.page.url}"
            raise

    async def do_hover(self, action: Action) -> str:
        found = await self.locate(action.spec, "hover")
        await self.loc(found.id).hover(timeout=CLICK_TIMEOUT_MS)
        await asyncio.sleep(0.35)  # menus open after a short delay
        return found.label()

    async def do_expand(self, action: Action) -> str:
        """Open (or, for collapse, close) a collapsible section by clicking its header, only when it is not
        already in that state, and check that the click had that effect."""
        want = action.kind == "expand"
        if not action.spec.name:
            return await self._toggle_sections(want, every=bool(action.options))
        spec = action.spec
        if spec.role == "section":
            spec = Target(spec.name, "", spec.ordinal, spec.scope, spec.any)
        found = await self.locate(spec, "click")
        before = await self.page.evaluate(pagejs.EXPANDED, [found.id, True])
        if before is want:
            self.notes.append(f"already {'expanded' if want else 'collapsed'}")
            return found.label()
        note = await self.click(found.id)
        if note:
            self.notes.append(note)
        await self.settle()
        await self.page.evaluate(pagejs.STILL, 1500)
        after = await self.page.evaluate(pagejs.EXPANDED, [found.id, True])
        if after is not None and after is not want:
            raise NotDone("failed", f"{found.label()} is still {'collapsed' if want else 'expanded'} after the click")
        return found.label()

    async def do_collapse(self, action: Action) -> str:
        return await self.do_expand(action)

    async def _toggle_sections(self, want: bool, every: bool) -> str:
        sections = await self.page.evaluate(pagejs.SECTIONS)
        if not sections:
            raise NotDone("element_not_found", f"no collapsible section on {self.page.url}", _nearby(await self.collect()))
        to_change = [s for s in sections if s["expanded"] is not want]
        state = "expanded" if want else "collapsed"
        if not to_change:
            self.notes.append(f"already {state}")
            return ", ".join(f"'{s['text']}'" for s in sections[:5])
        changed = []
        for section in to_change if every else to_change[:1]:
            note = await self.click(section["id"])
            if note:
                self.notes.append(note)
            await self.settle()
            if await self.page.evaluate(pagejs.EXPANDED, [section["id"], False]) is not want:
                raise NotDone("failed", f"section '{section['text']}' is not {state} after clicking its header")
            changed.append(f"'{section['text']}'")
        # Sections slide open and shut: what the next action grounds must not be moving away.
        await self.page.evaluate(pagejs.STILL, 1500)
        return "section " + ", ".join(changed)

    async def do_focus(self, action: Action) -> str:
        found = await self.locate(action.spec, "focus")
        await self.loc(found.id).focus()
        focused = await self.loc(found.id).evaluate("el => document.activeElement === el")
        if not focused:
            raise NotDone("failed", f"{found.label()} did not take the focus")
        return found.label()

    async def do_scroll(self, action: Action) -> str:
        if action.target in ("bottom", "top") and not action.spec.name:
            await self.page.evaluate(f"window.scrollTo(0, {'document.body.scrollHeight' if action.target == 'bottom' else 0})")
            return f"the {action.target} of the page"
        found = await self.locate(action.spec, "scroll")
        await self.loc(found.id).scroll_into_view_if_needed()
        return found.label()

    async def do_check(self, action: Action, want: bool = True) -> str:
        found = await self.locate(action.spec, action.kind if action.kind in ("check", "uncheck") else "check")
        await self._set_checked(found, want)
        return found.label()

    async def do_uncheck(self, action: Action) -> str:
        return await self.do_check(action, want=False)

    async def _set_checked(self, found: Candidate, want: bool) -> None:
        if found.data["role"] in ("checkbox", "radio", "switch"):
            if found.data["checked"] == want:
                self.notes.append("already " + ("checked" if want else "unchecked"))
                return
            note = await self.click(found.id)
            if note:
                self.notes.append(note)
            checked = await self.loc(found.id).evaluate("el => !!el.checked")
            if checked != want:
                raise NotDone("failed", f"{found.label()} is still {'un' if want else ''}checked after the click")
        else:
            note = await self.click(found.id)
            if note:
                self.notes.append(note)

    async def do_select(self, action: Action) -> str:
        values = list(action.options) or [action.value]
        candidates = await self.collect()
        lists = [d for d in candidates if d["visible"] and d["enabled"] and d["options"]]
        if action.spec.role == "listbox" or lists:
            for d in lists:
                labels = [max(d["options"], key=lambda o, v=v: match(v, o)) for v in values]
                if all(match(v, label) >= 0.9 for v, label in zip(values, labels, strict=True)):
                    await self.loc(d["id"]).select_option(label=labels)
                    return f"{d['role']} options {', '.join(repr(label) for label in labels)}"
        done = []
        for value in values:  # one read of the page for all the visible ones; hidden ones are revealed
            target = Target(value, "", 0, action.spec.scope)
            grounding = ground(candidates, target, "select")
            found = grounding.best if grounding.best is not None and grounding.hidden is None else None
            if found is None:
                found = await self.locate(target, "select")
            await self._set_checked(found, True)
            done.append(found.label())
        return "; ".join(done)

    async def do_fill(self, action: Action) -> str:
        value = action.value
        if action.source:
            key = action.source.split(":", 1)[1]
            if key not in self.values and "last" not in self.values:
                raise NotDone("failed", "nothing was read from the page to type")
            value = self.values.get(key, self.values.get("last", ""))
        value = {"lower": str.lower, "upper": str.upper, "title": str.title}.get(action.case, str)(value)
        target = action.spec
        found = await self.locate(target, "fill", self.used_sources)
        self.last_field = found.id
        for attempt in range(2):
            note = await self._type(found, value)
            if note:
                self.notes.append(note)
            state = await self.loc(found.id).evaluate("el => ({value: 'value' in el ? String(el.value) : el.innerText, "
                                                       "disabled: !!el.disabled})")
            if self._same_value(found, state["value"], value):
                return found.label()
            if attempt == 0 and await self.dismiss_popup():
                continue
        raise NotDone("failed", f"{found.label()} holds '{state['value'][:40]}' instead of the value typed")

    def _same_value(self, found: Candidate, got: str, value: str) -> bool:
        return got == value or bool(self._converted(found, value)) and got == self._converted(found, value)

    def _converted(self, found: Candidate, value: str) -> str:
        """Dates and times as an <input type=date|time> holds them."""
        kind = found.data["role"]
        if found.data["tag"] != "input" or kind not in ("date", "time"):
            return ""
        if kind == "date":
            m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value.strip())
            return f"{m.group(3)}-{int(m.group(1)):02d}-{int(m.group(2)):02d}" if m else ""
        m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?", value.strip())
        if not m:
            return ""
        hour = int(m.group(1)) % 12 + (12 if (m.group(4) or "").lower() == "pm" else 0) if m.group(4) else int(m.group(1))
        return f"{hour:02d}:{m.group(2)}" + (f":{m.group(3)}" if m.group(3) else "")

    async def _type(self, found: Candidate, value: str) -> str:
        converted = self._converted(found, value)
        loc = self.loc(found.id)
        if found.data["readonly"] and found.data["tag"] == "input":
            return await self._pick_date(found, value)
        await loc.fill(converted or value, timeout=CLICK_TIMEOUT_MS)
        return ""

    async def _pick_date(self, found: Candidate, value: str) -> str:
        """A read-only date field opens a calendar: go to the month, click the day."""
        m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value.strip()) or re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
        if not m:
            raise NotDone("failed", f"{found.label()} is read-only and '{value}' is not a date")
        if len(m.group(1)) == 4:
            year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        else:
            month, day, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        await self.click(found.id)
        for _ in range(36):
            calendar = await self.page.evaluate(pagejs.CALENDAR, [day])
            if not calendar or not calendar["month"]:
                raise NotDone("failed", f"{found.label()} is read-only and no calendar opened")
            shown = (calendar["year"], _MONTHS.index(calendar["month"].lower()) + 1)
            if shown == (year, month):
                if not calendar["day"]:
                    raise NotDone("failed", f"day {day} cannot be chosen in the calendar")
                await self.click(calendar["day"])
                return "picked in the calendar"
            step = calendar["next"] if shown < (year, month) else calendar["prev"]
            if not step:
                raise NotDone("failed", f"the calendar cannot move to {dt.date(year, month, 1):%B %Y}")
            await self.click(step)
        raise NotDone("failed", "the calendar did not reach the month")

    async def do_set(self, action: Action) -> str:
        found = await self.locate(action.spec, "set")
        wanted = float(action.value)
        if found.data["tag"] == "input" and found.data["role"] in ("spinbutton", "textbox", "slider"):
            await self.loc(found.id).fill(action.value, timeout=CLICK_TIMEOUT_MS)
            got = await self.loc(found.id).input_value()
            if float(got or "nan") != wanted:
                raise NotDone("failed", f"{found.label()} shows {got} instead of {action.value}")
            return found.label()
        return await self._slide(found, wanted)

    async def _slide(self, found: Candidate, wanted: float) -> str:
        """A custom slider: focus its handle and press arrow keys, reading the value it shows after each press."""
        loc = self.loc(found.id)
        await loc.focus()
        before = await self.page.evaluate(pagejs.READOUT, found.id)
        await self.page.keyboard.press("ArrowRight")
        after = await self.page.evaluate(pagejs.READOUT, found.id)

        def value_of(reading, reference):
            if reading is None:
                return None
            if "aria" in reading:
                return reading["aria"]
            changed = [k for k, v in reading["numbers"].items() if reference and k in reference.get("numbers", {})
                       and reference["numbers"][k] != v]
            return reading["numbers"][changed[0]] if changed else None

        current = value_of(after, before)
        readout_key = None
        if current is None and after and "numbers" in after:  # at the top end: try the other way
            await self.page.keyboard.press("ArrowLeft")
            again = await self.page.evaluate(pagejs.READOUT, found.id)
            current = value_of(again, after)
            after = again
        if after and "numbers" in after and before and "numbers" in before:
            changed = [k for k, v in after["numbers"].items() if before["numbers"].get(k) != v]
            readout_key = changed[0] if changed else None
        if current is None:
            raise NotDone("failed", f"cannot read the value of {found.label()}")
        for _ in range(3):
            delta = int(round(wanted - current))
            if delta == 0:
                return found.label()
            key = "ArrowRight" if delta > 0 else "ArrowLeft"
            for _ in range(min(abs(delta), 1000)):
                await self.page.keyboard.press(key)
            reading = await self.page.evaluate(pagejs.READOUT, found.id)
            current = reading["aria"] if "aria" in reading else reading["numbers"].get(readout_key, current)
        if current != wanted:
            raise NotDone("failed", f"{found.label()} shows {current} instead of {wanted:g}")
        return found.label()

    async def do_find(self, action: Action) -> str:
        await self.collect()  # learn the instruction's echo
        if action.target == "value":
            value = await self.page.evaluate(pagejs.VALUE_OF, [action.value, self.echo])
        elif action.target == "text":
            value = await self.page.evaluate(pagejs.TEXT_SHOWN, [self.echo])
        else:
            kind, n = action.target.split(":")
            value = await self.page.evaluate(pagejs.NTH_WORD, [kind, int(n), self.echo])
        if value is None:
            raise NotDone("element_not_found", f"could not find {action.value or action.target} on {self.page.url}")
        key = action.source.split(":", 1)[1] if action.source else "last"
        self.values[key] = self.values["last"] = value
        return f"'{value[:80]}'"

    async def do_copy(self, action: Action) -> str:
        found = await self.locate(action.spec, "read")
        value = await self.loc(found.id).evaluate("el => 'value' in el && el.tagName !== 'BUTTON' ? el.value : el.innerText")
        self.values["last"] = value
        self.used_sources.add(found.id)
        return found.label()

    async def submit_if_expected(self) -> Step | None:
        """A form filled as asked that has a button named exactly "Submit" is sent with it: such a page does
        nothing with the values until then. Reported as its own action."""
        if not self.last_field and not self.values:
            candidates = await self.collect()
        else:
            candidates = await self.collect()
        buttons = [d for d in candidates if d["visible"] and d["enabled"] and d["role"] == "button"
                   and norm(d["full"] or d["value"]) == "submit"]
        if len(buttons) != 1:
            return None
        step = Step("submit", "submit the form with its 'Submit' button (the values are not sent without it)")
        try:
            await self.click(buttons[0]["id"])
            await self.settle()
            step.target = "button 'Submit'"
        except PlaywrightError as exc:
            step.status, step.code, step.reason = "not_done", "failed", str(exc).splitlines()[0][:200]
        return step

    async def do_submit(self, action: Action) -> str:
        button = await self.page.evaluate(pagejs.FORM_BUTTON, self.last_field)
        if button:
            note = await self.click(button["id"])
            if note:
                self.notes.append(note)
            return f"button '{button['text']}'"
        if self.last_field:
            await self.loc(self.last_field).press("Enter")
            return "pressed Enter in the last field"
        raise NotDone("element_not_found", f"no form to submit on {self.page.url}")


def _nearby(candidates: list[dict]) -> list[str]:
    return [Candidate(d).label() for d in candidates if d["visible"] and (d["interactive"] or d["clickable"])][:6]


def _stem_like(word: str, label: str) -> bool:
    """directed ~ director, years ~ year: the same word up to its ending."""
    if len(word) < 3 or len(label) < 3:
        return False
    if word == label:
        return True
    common = 0
    for a, b in zip(word, label, strict=False):
        if a != b:
            break
        common += 1
    return common >= 5 or (common >= 4 and min(len(word), len(label)) <= 5)


class _Skip(NotDone):
    def __init__(self, reason: str) -> None:
        super().__init__("skipped", reason)


def is_field(candidate: Candidate) -> bool:
    return candidate.data["role"] in FIELD_ROLES
