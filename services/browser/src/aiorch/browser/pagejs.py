"""Small scripts that run in the page: revealing hidden content and reading values off it."""

_VIS = """const vis = (e) => !!e && (e.checkVisibility ? e.checkVisibility({opacityProperty: true, visibilityProperty: true}) : true)
  && e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().height > 0;
const byId = (id) => document.querySelector(`[data-aiorch-id="${id}"]`);
const norm = (s) => (s || "").replace(/\\s+/g, " ").trim();"""

VISIBLE = "(id) => {" + _VIS + " return vis(byId(id)); }"

OPENER = "(id) => {" + _VIS + """
  const el = byId(id);
  if (!el) return null;
  let hidden = el;
  while (hidden.parentElement && !vis(hidden.parentElement)) hidden = hidden.parentElement;
  // A control (a tab, a disclosure header) is clicked at once; anything else is hovered first (menus).
  const mark = (o, control) => { if (!o.dataset.aiorchId) o.dataset.aiorchId = "o" + Math.random().toString(36).slice(2, 8);
    return {id: o.dataset.aiorchId, text: norm(o.innerText).slice(0, 60),
            control: !!control || o.hasAttribute("aria-expanded") || o.hasAttribute("aria-selected")
                     || ["tab", "button"].includes(o.getAttribute("role") || "") || o.tagName === "SUMMARY"}; };
  // A control that names the hidden panel (tabs, disclosure buttons), by any attribute that points at its id.
  if (hidden.id) {
    const esc = CSS.escape(hidden.id);
    for (const o of document.querySelectorAll(`[aria-controls~="${esc}"], [href="#${esc}"], [data-target="#${esc}"], [data-bs-target="#${esc}"]`))
      if (vis(o)) return mark(o, true);
    for (const o of document.body.querySelectorAll("*")) {
      if (o === hidden || hidden.contains(o) || !vis(o)) continue;
      for (const a of o.attributes)
        if ((a.name.startsWith("data-") || a.name === "for") && (a.value === hidden.id || a.value === "#" + hidden.id)) return mark(o, true);
    }
  }
  const labelled = hidden.getAttribute("aria-labelledby");
  if (labelled && vis(document.getElementById(labelled))) return mark(document.getElementById(labelled));
  // Never a content panel: clicking one lands on whatever is at its centre (another link).
  const controls = "a, button, input, select, textarea, [onclick], [role=button], [role=link], [role=tab]";
  const header = (o) => norm(o.innerText).length <= 80 && !o.querySelector(controls);
  // The visible element just before it (an accordion header, a tree folder, a menu item, a "more" icon).
  let prev = hidden.previousElementSibling;
  while (prev && !vis(prev)) prev = prev.previousElementSibling;
  if (prev && header(prev)) return mark(prev);
  // A list of tabs before the panels: the tab at the hidden panel's position.
  const panels = [...hidden.parentElement.children].filter((c) => c.tagName === hidden.tagName && c.className === hidden.className);
  for (let list = hidden.previousElementSibling; list; list = list.previousElementSibling) {
    if (panels.includes(list) || !vis(list)) continue;
    const items = [...list.children].filter(vis);
    if (items.length === panels.length && items.every(header)) return mark(items[panels.indexOf(hidden)], true);
    break;
  }
  const parent = hidden.parentElement;
  return parent && parent !== document.body && header(parent) ? mark(parent) : null;
}"""

NTH_WORD = "([kind, n, echo]) => {" + _VIS + """
  const blocks = [...document.querySelectorAll("p, article, blockquote, [role=article], div, span, td")]
    .filter((e) => vis(e) && !(echo && norm(e.innerText) === echo) && ![...e.querySelectorAll("*")].some((c) => c.tagName === "P" && c !== e))
    .filter((e) => !(echo && echo.includes(norm(e.innerText)) && norm(e.innerText).length > 20));
  const paragraphs = blocks.filter((e) => e.tagName === "P");
  const source = (paragraphs.length ? paragraphs : blocks).find((e) => norm(e.innerText).split(" ").length >= Math.max(n, 2));
  if (!source) return null;
  const text = norm(source.innerText);
  const items = kind === "letter" || kind === "character" ? [...text.replace(/\\s/g, "")]
    : kind === "sentence" ? text.split(/(?<=[.!?])\\s+/)
    : kind === "line" ? source.innerText.split("\\n").map(norm).filter(Boolean)
    : kind === "number" ? (text.match(/-?\\d+(?:\\.\\d+)?/g) || [])
    : text.split(" ").map((w) => w.replace(/^[^\\p{L}\\p{N}]+|[^\\p{L}\\p{N}]+$/gu, "")).filter(Boolean);
  const i = n === -1 ? items.length - 1 : n - 1;
  return i >= 0 && i < items.length ? items[i] : null;
}"""

VALUE_OF = "([key, echo]) => {" + _VIS + """
  const k = norm(key).toLowerCase().replace(/[:]$/, "");
  const same = (e) => norm(e.innerText).toLowerCase().replace(/\\s*:$/, "") === k;
  const inEcho = (e) => echo && e.closest("*") && norm(e.parentElement ? e.parentElement.innerText : "") === echo;
  for (const cell of document.querySelectorAll("th, td, dt, label, b, strong, span, div")) {
    if (!vis(cell) || !same(cell) || inEcho(cell)) continue;
    if (cell.tagName === "DT" && cell.nextElementSibling) return norm(cell.nextElementSibling.innerText);
    if (cell.tagName === "TD" || cell.tagName === "TH") {
      const next = cell.nextElementSibling;
      if (next && norm(next.innerText)) return norm(next.innerText);
      const row = cell.parentElement, below = row && row.nextElementSibling;
      if (below && below.cells && below.cells[cell.cellIndex]) return norm(below.cells[cell.cellIndex].innerText);
      continue;
    }
    const next = cell.nextElementSibling;
    if (next && norm(next.innerText) && norm(next.innerText).length < 200) return norm(next.innerText);
    const after = cell.nextSibling;
    if (after && after.nodeType === 3 && norm(after.textContent)) return norm(after.textContent).replace(/^:\\s*/, "");
  }
  // "Key: value" in one line of text.
  const re = new RegExp("(?:^|\\\\n)\\\\s*" + key.replace(/[.*+?^${}()|[\\]\\\\]/g, "\\\\$&") + "\\\\s*:\\\\s*([^\\\\n]+)", "i");
  const m = document.body.innerText.match(re);
  return m ? norm(m[1]) : null;
}"""

TEXT_SHOWN = "([echo]) => {" + _VIS + """
  const interactive = "input, textarea, select, button, a, [role=button], [contenteditable]";
  for (const el of document.body.querySelectorAll("*")) {
    if (!vis(el) || el.matches(interactive) || el.closest(interactive) || ["SCRIPT", "STYLE", "LABEL"].includes(el.tagName)) continue;
    const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
    if (!own) continue;
    const text = norm(el.innerText);
    if (echo && (echo.includes(text) || text.includes(echo))) continue;
    let block = el;
    while (block.parentElement && block.parentElement !== document.body && !block.parentElement.querySelector(interactive)
           && !(echo && norm(block.parentElement.innerText).includes(echo))) block = block.parentElement;
    return block.innerText.replace(/\\s+/g, block.querySelectorAll("span").length > 1 ? "" : " ").trim();
  }
  return null;
}"""

READOUT = "(id) => {" + _VIS + """
  // A slider's value: its ARIA value, else the numbers shown near it (read before and after a key press).
  const el = byId(id);
  if (!el) return null;
  const host = el.closest("[aria-valuenow]") || el.querySelector("[aria-valuenow]");
  if (el.getAttribute("aria-valuenow") !== null) return {aria: Number(el.getAttribute("aria-valuenow"))};
  if (host) return {aria: Number(host.getAttribute("aria-valuenow"))};
  if (el.tagName === "INPUT") return {aria: Number(el.value)};
  const numbers = {};
  let scope = el;
  for (let i = 0; i < 4 && scope.parentElement; i++) scope = scope.parentElement;
  for (const n of scope.querySelectorAll("*")) {
    const own = [...n.childNodes].filter((c) => c.nodeType === 3).map((c) => c.textContent).join("").trim();
    if (/^-?\\d+(\\.\\d+)?$/.test(own) && vis(n)) {
      if (!n.dataset.aiorchId) n.dataset.aiorchId = "n" + Math.random().toString(36).slice(2, 8);
      numbers[n.dataset.aiorchId] = Number(own);
    }
  }
  return {numbers};
}"""

FORM_BUTTON = "(fieldId) => {" + _VIS + """
  // The button that goes with a form: the form's own, else the first visible button after the field.
  const field = fieldId && byId(fieldId);
  const buttons = [...document.querySelectorAll("button, input[type=submit], input[type=button], [role=button]")]
    .filter((b) => vis(b) && !b.disabled);
  let pick = null;
  if (field && field.form) pick = buttons.find((b) => b.form === field.form);
  if (!pick && field) pick = buttons.find((b) => field.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
  if (!pick && buttons.length === 1) pick = buttons[0];
  if (!pick) return null;
  if (!pick.dataset.aiorchId) pick.dataset.aiorchId = "b" + Math.random().toString(36).slice(2, 8);
  return {id: pick.dataset.aiorchId, text: norm(pick.innerText || pick.value)};
}"""

CALENDAR = "([day]) => {" + _VIS + """
  // A visible date picker: its title (month and year) and the link for a day of the shown month.
  const tables = [...document.querySelectorAll("table")].filter(vis)
    .filter((t) => [...t.querySelectorAll("td")].filter((c) => /^\\d{1,2}$/.test(norm(c.innerText))).length >= 28);
  if (!tables.length) return null;
  const table = tables[0];
  let box = table.parentElement;
  while (box && box.parentElement && !/[A-Za-z]+\\s+\\d{4}/.test(norm(box.innerText))) box = box.parentElement;
  const title = (norm(box ? box.innerText : "").match(/(January|February|March|April|May|June|July|August|September|October|November|December)\\s+(\\d{4})/i) || []);
  const mark = (o) => { if (!o.dataset.aiorchId) o.dataset.aiorchId = "c" + Math.random().toString(36).slice(2, 8); return o.dataset.aiorchId; };
  let dayId = null;
  for (const cell of table.querySelectorAll("td")) {
    const link = cell.querySelector("a, button") || cell;
    if (norm(cell.innerText) === String(day) && vis(link) && !/other-month|disabled/.test(cell.className)) { dayId = mark(link); break; }
  }
  const nav = (re) => { const o = [...(box || document).querySelectorAll("a, button, [role=button]")].find((e) => vis(e) && re.test(norm(e.innerText) + " " + (e.getAttribute("title") || "") + " " + (e.getAttribute("aria-label") || ""))); return o ? mark(o) : null; };
  return {month: title[1] || null, year: title[2] ? Number(title[2]) : null, day: dayId,
          prev: nav(/prev|previous|<|‹|«/i), next: nav(/next|>|›|»/i)};
}"""

SECTIONS = "() => {" + _VIS + """
  // Collapsible sections: their headers and whether each is expanded (details/summary, aria-expanded,
  // else a clickable header whose next sibling is the panel).
  const out = [], seen = new Set();
  const mark = (o, expanded) => {
    if (!o.dataset.aiorchId) o.dataset.aiorchId = "s" + Math.random().toString(36).slice(2, 8);
    seen.add(o);
    out.push({id: o.dataset.aiorchId, text: norm(o.innerText).slice(0, 60), expanded});
  };
  for (const d of document.querySelectorAll("details")) {
    const s = d.querySelector(":scope > summary");
    if (s && vis(s)) mark(s, d.open);
  }
  for (const h of document.querySelectorAll("[aria-expanded]")) {
    const role = h.getAttribute("role") || "";
    if (seen.has(h) || !vis(h) || ["combobox", "listbox", "searchbox", "textbox"].includes(role)
        || ["INPUT", "SELECT", "TEXTAREA"].includes(h.tagName)) continue;
    mark(h, h.getAttribute("aria-expanded") === "true");
  }
  if (!out.length) {
    for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6, button, [role=button], dt, [onclick]")) {
      const next = h.nextElementSibling;
      if (!vis(h) || !next || h.closest("form") && h.tagName === "BUTTON") continue;
      const clickable = getComputedStyle(h).cursor === "pointer" || h.tagName === "BUTTON"
        || h.getAttribute("role") === "button" || h.hasAttribute("onclick") || h.tagName === "SUMMARY";
      if (clickable && !next.matches("h1, h2, h3, h4, h5, h6, button, [role=button], dt")) mark(h, vis(next));
    }
  }
  return out;
}"""

EXPANDED = "([id, strict]) => {" + _VIS + """
  // Whether the section a header opens is expanded now (null when the page does not say; strict: only
  // when the page marks it, aria-expanded or <details>, not guessed from the next sibling).
  const h = byId(id);
  if (!h) return null;
  if (h.tagName === "SUMMARY" && h.parentElement.tagName === "DETAILS") return h.parentElement.open;
  if (h.hasAttribute("aria-expanded")) {
    const controls = h.getAttribute("aria-controls");
    const panel = controls && document.getElementById(controls.split(" ")[0]);
    return h.getAttribute("aria-expanded") === "true" && (!panel || vis(panel) || getComputedStyle(panel).display !== "none");
  }
  const next = h.nextElementSibling;
  return next && !strict ? vis(next) : null;
}"""

STATE = """(el) => ({selected: el.getAttribute("aria-selected"), checked: ["checkbox", "radio"].includes(el.type) ? el.checked : null,
  connected: el.isConnected})"""

STILL = """(limit) => new Promise((resolve) => {
  // Resolves once the page's layout has stopped moving (a section sliding open or shut) for three frames.
  const start = performance.now();
  let last = "", same = 0;
  const tick = () => {
    const now = [document.body.scrollHeight, ...[...document.querySelectorAll("[aria-expanded] + *, details")]
      .slice(0, 50).map((e) => Math.round(e.getBoundingClientRect().height))].join(",");
    same = now === last ? same + 1 : 0;
    last = now;
    if (same >= 3 || performance.now() - start > limit) resolve(same >= 3); else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})"""
