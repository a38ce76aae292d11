"""Instruction to ordered action plan: splitting, quotes, ordinals, roles, case transforms, values read off the page."""

import pytest

from aiorch.browser.plan import Target, parse
from aiorch.browser.errors import BrowseError


def steps(instruction):
    return [(a.kind, a.spec, a.value) for a in parse(instruction, {"url": "https://x.org/"}, 5).actions[1:-1]]


def test_splits_at_then_commas_and_and_before_a_verb_but_not_inside_lists_or_quotes():
    plan = steps('Select Apples, Pears and Plums, then check "Yes, please" and click Submit.')
    assert [kind for kind, _, _ in plan] == ["select", "check", "click"]
    select = parse('Select Apples, Pears and Plums and click Submit', {"url": "https://x.org"}, 5).actions[1]
    assert select.options == ("Apples", "Pears", "Plums")
    assert plan[1][1] == Target("Yes, please")
    assert plan[2][1] == Target("Submit")


def test_quoted_names_roles_ordinals_and_names_with_numbers():
    assert steps('Click on the link "ut."')[0][1] == Target("ut.", "link")
    assert steps("click on Tab #3")[0][1] == Target("Tab #3", "tab")
    assert steps("Click button ONE.")[0][1] == Target("ONE", "button")
    assert steps("Click the button.")[0][1] == Target("", "button")
    assert steps("check the 2nd checkbox")[0][1] == Target("", "checkbox", 2)
    assert steps("click the last link")[0][1] == Target("", "link", -1)
    assert steps("Focus into the 3rd input textbox.")[0][1] == Target("", "textbox", 3)
    assert steps('Click on a "textarea" widget.')[0][1] == Target("", "textarea", 0, "", True)
    assert steps('Click the button in the dialog box labeled "x".')[0][1] == Target("x", "button", 0, "dialog")
    assert steps('For the user @ada, click on the "Like" button.')[0][1] == Target("Like", "button", 0, "@ada")


def test_typing_with_labels_values_and_case_transforms():
    plan = steps('Enter the username "myron" and the password "rLwlr" into the text fields and press login.')
    assert [(k, s.name, v) for k, s, v in plan] == [("fill", "username", "myron"), ("fill", "password", "rLwlr"),
                                                     ("click", "login", "")]
    fill = parse("type 'Hello World' into the search box in all lower case letters", {"url": "https://x.org"}, 5).actions[1]
    assert (fill.kind, fill.value, fill.case) == ("fill", "Hello World", "lower")
    assert steps('Check the 3rd radio button and enter the number "-7" into the 2nd textbox.') == [
        ("check", Target("", "radio", 3), ""), ("fill", Target("", "textbox", 2), "-7")]
    assert steps("Enter 7:55 PM as the time and press submit.")[0] == ("fill", Target("", "time"), "7:55 PM")


def test_select_forms_menus_sliders_and_dates():
    assert steps("Choose 5ft 10in from the dropdown")[0][1].role == "listbox"
    assert [(k, s.name) for k, s, _ in steps("Select File>Export>PDF")] == [
        ("hover", "File"), ("hover", "Export"), ("click", "PDF")]
    assert steps("Select 33 with the slider and hit Submit.")[0] == ("set", Target("", "slider"), "33")
    assert steps("Select -3 with the spinner")[0] == ("set", Target("", "spinbutton"), "-3")
    assert steps("Select 12/24/2016 as the date and hit submit.")[0] == ("fill", Target("", "date"), "12/24/2016")


def test_values_read_off_the_page_feed_the_next_action():
    plan = parse('Find the 3rd word in the paragraph, type that into the textbox and press "Submit".',
                 {"url": "https://x.org"}, 5).actions
    assert [(a.kind, a.target, a.source) for a in plan[1:4]] == [
        ("find", "word:3", "var:last"), ("fill", "", "var:last"), ("click", "Submit", "")]
    table = parse("Enter the value of Year of Birth into the text field", {"url": "https://x.org"}, 5).actions
    assert (table[1].kind, table[1].value, table[2].source) == ("find", "Year of Birth", "var:value")
    copy = parse("Copy the text in the textarea below, paste it into the textbox", {"url": "https://x.org"}, 5).actions
    assert [(a.kind, a.spec.role) for a in copy[1:3]] == [("copy", "textarea"), ("fill", "textbox")]
    below = parse("Type the text below into the text field", {"url": "https://x.org"}, 5).actions
    assert [(a.kind, a.source) for a in below[1:3]] == [("find", "var:text"), ("fill", "var:text")]


def test_exploring_clauses_and_no_verb_read_the_page():
    plan = steps('Switch between the tabs to find and click on the link "augue".')
    assert [k for k, _, _ in plan] == ["explore", "click"]
    # Expanding sections is a real action on the page, never a hint.
    plan = parse('Expand the sections below, to find and click on the link "augue".', {"url": "https://x.org"}, 5).actions
    assert [(a.kind, a.spec.role, a.options) for a in plan[1:3]] == [("expand", "section", ("all",)), ("click", "link", ())]
    one = parse("Expand the section below and click submit.", {"url": "https://x.org"}, 5).actions
    assert [(a.kind, a.options) for a in one[1:3]] == [("expand", ()), ("click", ())]
    assert [a.kind for a in parse("what does https://x.org say about shipping", {}, 5).actions] == ["open", "screenshot"]
    assert parse("summarise https://x.org", {}, 5).read_only


def test_verbs_that_cannot_be_done_are_kept_as_not_done_or_refused():
    assert steps("Select words similar to happy, large")[0][0] == "unsupported"
    with pytest.raises(BrowseError, match="'delete'"):
        parse("delete my account on https://x.org", {}, 5)
    # A quoted label that happens to be a verb is a name, not a verb.
    assert steps("click 'Delete'") == [("click", Target("Delete"), "")]


def test_the_llm_is_offered_the_offline_plan_as_a_first_guess():
    from aiorch.browser.llm import DATA_NOTE, task_text

    plan = parse("open https://x.org and click 'Orders'", {}, 5)
    text = task_text("open https://x.org and click 'Orders'", [a.describe() for a in plan.actions])
    assert "first guess" in text and "2. click 'Orders'" in text and text.endswith(DATA_NOTE)


def test_the_address_given_twice_is_opened_once_so_the_actions_are_kept():
    url = "http://127.0.0.1:8000/form.html"
    plan = parse(f"On {url}: check the 3rd radio button and enter \"-7\" into the 2nd textbox", {"url": url}, 5)
    assert [action.kind for action in plan.actions].count("open") == 1
    assert plan.actions[0].kind == "open" and plan.actions[-1].kind == "screenshot"
    other = parse(f"open {url} and then open http://127.0.0.1:8000/other.html", {"url": url}, 5)
    assert [action.target for action in other.actions if action.kind == "open"] == [url, "http://127.0.0.1:8000/other.html"]
