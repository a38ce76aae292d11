"""Collapsible sections, tabs and exact names in real Chromium, on small pages written here: an "expand" clause
is carried out (never skipped), and a quoted name with punctuation means exactly that element."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import pytest_asyncio

from aiorch.browser.config import BrowserSettings
from aiorch.browser.executor import Limits, SharedBrowser, browse
from aiorch.browser.plan import parse
from aiorch.browser.policy import UrlPolicy
from aiorch.browser.errors import BrowseError

pytestmark = [pytest.mark.skipif(not BrowserSettings().chromium_path.exists(), reason="Chromium is not installed"),
              pytest.mark.asyncio(loop_scope="module")]

_SCRIPT = """<pre id=log></pre><script>
const log = (line) => { document.getElementById('log').textContent += line + '\\n'; };
document.querySelectorAll('.link').forEach((a) => a.onclick = () => log('clicked [' + a.textContent + ']'));
document.querySelectorAll('.head').forEach((h) => h.onclick = () => {
  const open = h.getAttribute('aria-expanded') === 'true';
  document.querySelectorAll('.head').forEach((o) => { o.setAttribute('aria-expanded', 'false');
    o.nextElementSibling.style.display = 'none'; });
  if (!open) { h.setAttribute('aria-expanded', 'true'); h.nextElementSibling.style.display = 'block'; } });
document.querySelectorAll('.tab').forEach((t) => t.onclick = () => {
  document.querySelectorAll('.panel').forEach((p) => p.style.display = p.id === t.dataset.for ? 'block' : 'none'); });
const submit = document.getElementById('submit');
if (submit) submit.onclick = () => log('open sections: ' + [...document.querySelectorAll('.body')]
  .filter((b) => b.style.display !== 'none').length);
</script><style>.link, .head, .tab { cursor: pointer; } .link { text-decoration: underline; }</style>"""


def _section(title: str, body: str, expanded: bool = False) -> str:
    return (f"<h3 class=head aria-expanded={'true' if expanded else 'false'}>{title}</h3>"
            f"<div class=body style='display:{'block' if expanded else 'none'}'>{body}</div>")


PAGES = {
    "/one": "<div id=area>" + _section("Section #7", "Lorem ipsum dolor sit amet.") + "</div>"
            "<p><button id=submit>Submit</button></p>",
    "/one-open": "<div id=area>" + _section("Section #7", "Lorem ipsum dolor sit amet.", True) + "</div>"
                 "<p><button id=submit>Submit</button></p>",
    # The near name "ut." is visible; the exact "ut" is in a collapsed section.
    "/near": "<div id=area>" + _section("Section #1", "Ut enim <a class=link href=#>ut.</a> magna aliqua.", True)
             + _section("Section #2", "Dolor <span class=link>ut</span> sed do.") + "</div>",
    "/tabs": "<ul><li class=tab data-for=p1>Tab #1</li><li class=tab data-for=p2>Tab #2</li></ul>"
             "<div class=panel id=p1>Sed <span class=link>ut.</span> tempor <span class=link>amet</span></div>"
             "<div class=panel id=p2 style='display:none'>Nunc <span class=link>ut</span> elit.</div>",
    # The same word in another case is visible; the name as written is in another tab.
    "/case": "<ul><li class=tab data-for=p1>Tab #1</li><li class=tab data-for=p2>Tab #2</li></ul>"
             "<div class=panel id=p1>Sed <span class=link>Ut</span> tempor</div>"
             "<div class=panel id=p2 style='display:none'>Nunc <span class=link>ut</span> elit.</div>",
    "/plain": "<p>Nothing to expand here, just <span class=link>text</span>.</p>",
    # A tab whose click has no effect: the page says it stays unselected.
    "/stuck": "<div role=tablist><div role=tab aria-selected=true>Home</div><div role=tab aria-selected=false>Stuck</div></div>",
}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        body = PAGES.get(self.path.split("?")[0])
        data = (f"<!doctype html><html><head><meta charset=utf-8><title>t</title></head><body>{body}{_SCRIPT}"
                "</body></html>").encode() if body else b"not found"
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(site):
    shared = SharedBrowser(str(BrowserSettings().chromium_path), UrlPolicy(frozenset({"127.0.0.1"})),
                           Limits(navigation_timeout_s=5, task_timeout_s=20))
    await shared.start()
    yield shared
    await shared.stop()


async def run(browser, site, path, instruction):
    return await browse(browser, parse(instruction, {"url": site + path}, 1))


def log(result) -> str:
    return result.pages[-1].main_text


async def test_expand_the_section_is_carried_out_not_skipped(browser, site):
    result = await run(browser, site, "/one", "Expand the section below and click submit.")
    assert "open sections: 1" in log(result)
    assert [s.status for s in result.steps[1:3]] == ["done", "done"]
    assert "Section #7" in result.steps[1].target


async def test_an_expanded_section_is_left_open(browser, site):
    result = await run(browser, site, "/one-open", "Expand the section below and click submit.")
    assert "open sections: 1" in log(result) and "already expanded" in result.steps[1].reason


async def test_expand_with_no_section_on_the_page_fails_the_step(browser, site):
    with pytest.raises(BrowseError) as caught:
        await run(browser, site, "/plain", "Expand the section below and click on the link \"text\".")
    assert "section" in caught.value.message


async def test_an_exact_name_in_a_collapsed_section_beats_a_visible_near_name(browser, site):
    result = await run(browser, site, "/near", 'Expand the sections below, to find and click on the link "ut".')
    assert "clicked [ut]\n" in log(result) + "\n" and "clicked [ut.]" not in log(result)
    near = await run(browser, site, "/near", 'Expand the sections below, to find and click on the link "ut.".')
    assert "clicked [ut.]" in log(near)


async def test_an_exact_name_in_another_tab_beats_a_visible_near_name(browser, site):
    result = await run(browser, site, "/tabs", 'Switch between the tabs to find and click on the link "ut".')
    assert "clicked [ut]" in log(result) and "clicked [ut.]" not in log(result)
    assert result.steps[1].status == "done" and "Tab #2" in result.steps[1].reason


async def test_a_click_whose_effect_the_page_denies_is_not_done(browser, site):
    with pytest.raises(BrowseError) as caught:
        await run(browser, site, "/stuck", "click on the Stuck tab")
    assert "not selected after the click" in caught.value.message


async def test_a_clause_that_only_says_to_look_around_is_not_done_alone(browser, site):
    with pytest.raises(BrowseError) as caught:
        await run(browser, site, "/tabs", "Switch between the tabs")
    assert caught.value.code == "not_understood"


async def test_a_named_section_is_expanded_and_a_link_is_opened_by_a_click(browser, site):
    result = await run(browser, site, "/near", 'Expand "Section #2", then click on the link "ut"')
    assert "clicked [ut]" in log(result) and "Section #2" in result.steps[1].target
    opened = await run(browser, site, "/tabs", 'Open the link "amet"')  # "open" a link is a click, not a section
    assert "clicked [amet]" in log(opened)


async def test_the_name_as_written_beats_the_same_word_in_another_case(browser, site):
    result = await run(browser, site, "/case", 'Switch between the tabs to find and click on the link "ut".')
    assert "clicked [ut]" in log(result) and "clicked [Ut]" not in log(result)
    other = await run(browser, site, "/case", 'Switch between the tabs to find and click on the link "Ut".')
    assert "clicked [Ut]" in log(other) and "clicked [ut]" not in log(other)
