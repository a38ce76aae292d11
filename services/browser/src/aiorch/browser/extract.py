"""What a page holds, read in one round trip to the browser."""

EXTRACT = """
(wants) => {
  const clean = (s) => (s || "").replace(/\\s+/g, " ").trim();
  const main = document.querySelector("main, [role=main], article") || document.body;
  const out = {
    title: document.title,
    headings: [...document.querySelectorAll("h1, h2, h3")].map(h => clean(h.innerText)).filter(Boolean).slice(0, 50),
    mainText: (main ? main.innerText : "").slice(0, 20000),
    links: [], tables: [], items: [],
  };
  if (wants.includes("links") || wants.includes("all")) {
    out.links = [...document.querySelectorAll("a[href]")].slice(0, 200)
      .map(a => ({text: clean(a.innerText) || a.getAttribute("aria-label") || "", url: a.href}));
  }
  out.tables = [...document.querySelectorAll("table")].slice(0, 20).map(table => ({
    caption: table.caption ? clean(table.caption.innerText) : null,
    rows: [...table.rows].slice(0, 5000).map(row => [...row.cells].map(cell => clean(cell.innerText))),
  }));
  if (wants.includes("reviews")) {
    // The most specific markup first: schema.org reviews, then class names, then quotes.
    for (const selector of ["[itemprop=review]", ".review", ".comment", "[class*=review] p", "blockquote"]) {
      const texts = [...document.querySelectorAll(selector)].map(node => clean(node.innerText)).filter(Boolean);
      if (texts.length) { out.items = [...new Set(texts)].slice(0, 500); break; }
    }
  } else if (wants.includes("lists")) {
    out.items = [...main.querySelectorAll("li")].map(li => clean(li.innerText)).filter(Boolean).slice(0, 500);
  }
  return out;
}
"""

NEXT_LINK = """
() => {
  const rel = document.querySelector("a[rel=next], link[rel=next]");
  if (rel && rel.href) return rel.href;
  const words = /^(next|next page|older|more|›|»|→|weiter|suivant|siguiente)\\s*[›»→]?$/i;
  const link = [...document.querySelectorAll("a[href]")].find(a => words.test((a.innerText || "").trim()));
  return link ? link.href : null;
}
"""
