"""The executor in real Chromium against the local test site."""

import pytest

from aiorch.browser.actions import parse
from aiorch.browser.config import BrowserSettings
from aiorch.browser.executor import Limits, SharedBrowser, browse
from aiorch.browser.policy import UrlPolicy
from aiorch.browser.testsite import DemoSite
from aiorch.browser.errors import BrowseError

pytestmark = pytest.mark.skipif(not BrowserSettings().chromium_path.exists(), reason="Chromium is not installed")


@pytest.fixture(scope="module")
def site():
    with DemoSite() as running:
        yield running


@pytest.fixture
async def browser(site):
    shared = SharedBrowser(str(BrowserSettings().chromium_path), UrlPolicy(frozenset({site.host})),
                           Limits(navigation_timeout_s=5, task_timeout_s=20))
    await shared.start()
    yield shared
    await shared.stop()


async def run(browser, site, instruction, limits=None):
    return await browse(browser, parse(instruction.replace("SITE", site.url), {}, 5), limits)


async def test_reads_title_text_and_reviews(browser, site):
    result = await run(browser, site, "get the reviews from SITE/product/1")
    page = result.pages[-1]
    assert page.title == "Trail Shoe" and "A fine product." in page.main_text and "Reviews" in page.headings
    assert page.items[1] == "Fell apart after two weeks, terrible quality."
    assert result.screenshot.startswith(b"\x89PNG")


async def test_follows_next_pages_up_to_the_bound(browser, site):
    result = await run(browser, site, "list the products on SITE/products, all pages")
    assert [p.title for p in result.pages][:3] == ["Products, page 1", "Products, page 2", "Products, page 3"]
    assert sum(len(p.items) for p in result.pages) >= 6
    bounded = await run(browser, site, "list the products on SITE/products up to 2 pages")
    assert [p.title for p in bounded.pages] == ["Products, page 1", "Products, page 2"]


async def test_login_form(browser, site):
    result = await run(browser, site, "open SITE/login and log in as alice with password 'wonderland'")
    assert result.pages[-1].title == "Welcome" and "password" in " ".join(result.actions)
    assert "wonderland" not in " ".join(result.actions)  # secrets are not echoed


async def test_contact_form_by_placeholder_and_name(browser, site):
    result = await run(browser, site, "on SITE/contact fill Your name with 'Ada', enter 'ada@example.org' into the "
                                      "email field, message: 'Hi!' and submit")
    assert "Thanks, Ada" in result.pages[-1].main_text and "ada@example.org" in result.pages[-1].main_text


async def test_click_by_visible_text_and_tables(browser, site):
    result = await run(browser, site, "open SITE/products and click 'Trail Shoe', then read the reviews")
    assert result.pages[-1].title == "Trail Shoe"
    table = (await run(browser, site, "read the table on SITE/table")).pages[-1].tables[0]
    assert table["caption"] == "Prices" and table["rows"][0] == ["Product", "Price", "Reviews"] and len(table["rows"]) == 7


async def test_waits_for_javascript_content(browser, site):
    result = await run(browser, site, "open SITE/delayed and wait for 'Loaded by JavaScript'")
    assert "Loaded by JavaScript" in result.pages[-1].main_text


@pytest.mark.parametrize(
    "instruction, code, message",
    [
        ("open SITE/missing", "http_error", "answered HTTP 404"),
        ("open http://no-such-host.invalid/", "unreachable", "does not resolve"),
        ("open SITE/slow", "timeout", "did not finish loading"),
        ("open SITE/products and click 'Gift wrap'", "element_not_found", "nothing to click named 'Gift wrap'"),
        ("open SITE/redirect-to-metadata", "refused_url", "cloud metadata"),
        ("open SITE/delayed and wait for 'never there'", "timeout", "did not appear"),
    ],
)
async def test_failures_say_why(browser, site, instruction, code, message):
    with pytest.raises(BrowseError) as caught:
        await run(browser, site, instruction, Limits(navigation_timeout_s=2, task_timeout_s=10))
    assert caught.value.code == code and message in caught.value.message


async def test_local_sites_are_refused_unless_allowed(site):
    strict = SharedBrowser(str(BrowserSettings().chromium_path), UrlPolicy(), Limits())
    await strict.start()
    try:
        with pytest.raises(BrowseError) as caught:
            await run(strict, site, "open SITE/products")
    finally:
        await strict.stop()
    assert caught.value.code == "refused_url" and "loopback" in caught.value.message


async def test_a_huge_page_is_read_within_bounds(browser, site):
    result = await run(browser, site, "open SITE/huge and take a screenshot",
                       Limits(navigation_timeout_s=10, task_timeout_s=30))
    assert len(result.pages[-1].main_text) == 20_000
    # A full-page screenshot stops at MAX_SCREENSHOT_HEIGHT (PNG height is bytes 20-24 of the header).
    assert int.from_bytes(result.screenshot[20:24], "big") == 8000
