"""Grounding and honest execution in real Chromium, on the local widgets page (testsite.WIDGETS)."""

import pytest
import pytest_asyncio

from aiorch.browser.config import BrowserSettings
from aiorch.browser.executor import Limits, SharedBrowser, browse
from aiorch.browser.plan import parse
from aiorch.browser.policy import UrlPolicy
from aiorch.browser.testsite import DemoSite
from aiorch.browser.errors import BrowseError

pytestmark = [pytest.mark.skipif(not BrowserSettings().chromium_path.exists(), reason="Chromium is not installed"),
              pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(scope="module")
def site():
    with DemoSite() as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(site):  # one Chromium for the module: each task still gets a fresh context
    shared = SharedBrowser(str(BrowserSettings().chromium_path), UrlPolicy(frozenset({site.host})),
                           Limits(navigation_timeout_s=5, task_timeout_s=20))
    await shared.start()
    yield shared
    await shared.stop()


async def run(browser, site, instruction):
    return await browse(browser, parse(instruction, {"url": f"{site.url}/widgets"}, 1))


def log(result) -> str:
    return result.pages[-1].main_text


async def test_actions_run_in_order_on_one_page_and_extraction_sees_their_effect(browser, site):
    result = await run(browser, site, "Check 'Pears' and Plums, choose Large, select Green from the dropdown, "
                                      "type 'ada' into the First name field in all upper case letters, "
                                      "set the Last name field to 'Byron', then click 'Send'")
    assert "sent: ADA | Byron | Pears Plums Large | Green | 2" in log(result)
    assert [s.status for s in result.steps].count("done") == len(result.steps)
    assert result.pages[-1].url.endswith("/widgets")  # no re-navigation after the actions


async def test_hidden_targets_are_revealed_by_their_opener(browser, site):
    result = await run(browser, site, 'Switch between the tabs to find and click on the link "Deep link", then click '
                                      '"Reveal me" and select Produce>Citrus')
    text = log(result)
    assert "clicked Deep link" in text and "revealed" in text and "menu Citrus" in text
    # "switch between the tabs" is carried out by the click it leads to: done because the click was, naming the tab
    assert result.steps[1].status == "done" and "Tab #2" in result.steps[1].reason


async def test_values_read_off_the_page_are_typed(browser, site):
    result = await run(browser, site, "Find the 5th word in the paragraph, type that into the First name field, "
                                      "enter the value of Language into the Last name field and press Send")
    assert "sent: jumps | Esperanto |" in log(result)


async def test_ordinals_roles_and_the_dialogs_close_button(browser, site):
    result = await run(browser, site, "Check the 2nd radio button, click Send, then click the button in the dialog "
                                      "labeled \"x\"")
    assert "| Medium |" in log(result) and "dialog Close" in log(result)


async def test_a_missing_target_fails_naming_it_and_the_closest_candidates(browser, site):
    with pytest.raises(BrowseError) as caught:
        await run(browser, site, "click 'Gift wrap' and then click Send")
    assert caught.value.code == "element_not_found"
    assert "'Gift wrap'" in caught.value.message and "closest seen:" in caught.value.message
    steps = caught.value.result.steps
    assert [s.status for s in steps[1:3]] == ["not_done", "skipped"]  # nothing after it was attempted


async def test_two_equally_good_matches_are_ambiguous_and_both_are_named(browser, site):
    with pytest.raises(BrowseError) as caught:
        await run(browser, site, "click 'Save'")
    assert caught.value.code == "ambiguous"
    assert caught.value.message.count("button 'Save'") >= 2


async def test_an_alert_is_reported_and_dismissed(browser, site):
    result = await run(browser, site, "click 'Alert me' and then click 'Send'")
    assert result.dialogs == ["alert: Hello from the page"]
    assert "dialog" in result.steps[1].reason and "alerted" in log(result) and "sent:" in log(result)


async def test_a_verb_that_cannot_be_done_fails_the_step(browser, site):
    with pytest.raises(BrowseError) as caught:
        await run(browser, site, "Select words similar to happy and click Send")
    assert caught.value.code == "not_understood" and "thesaurus" in caught.value.message


async def test_a_slider_is_set(browser, site):
    result = await run(browser, site, "Select 7 with the slider and click Send")
    assert log(result).rstrip().endswith("| 7")
