import pytest

from aiorch.browser.actions import parse
from aiorch.browser.errors import BrowseError


def kinds(plan):
    return [(a.kind, a.target, a.value) for a in plan.actions]


def test_open_and_read():
    plan = parse("get the reviews from https://shop.example/p/7.", {}, 10)
    assert kinds(plan) == [("open", "https://shop.example/p/7", ""), ("screenshot", "", "")]
    assert plan.wants == {"reviews"}


def test_login_form_click_wait_and_pages():
    plan = parse("open https://x.org/login and log in as alice with password 'wonderland', then click 'Orders', "
                 "wait for 'Your orders' and read all pages", {}, 5)
    assert kinds(plan) == [
        ("open", "https://x.org/login", ""), ("fill", "username", "alice"), ("fill", "password", "wonderland"),
        ("submit", "", ""), ("click", "Orders", ""), ("wait", "Your orders", ""), ("next_pages", "5", ""),
        ("screenshot", "", "")]


def test_fields_by_label_placeholder_or_name():
    plan = parse("on https://x.org/contact fill name with 'Ada', enter 'ada@example.org' into the email field, "
                 "message: 'Hello there' and submit", {}, 5)
    assert [(a.target, a.value) for a in plan.actions if a.kind == "fill"] == [
        ("name", "Ada"), ("email", "ada@example.org"), ("message", "Hello there")]
    assert ("submit", "", "") in kinds(plan)


def test_up_to_n_pages_is_bounded_by_the_settings():
    assert ("next_pages", "3", "") in kinds(parse("list the products on https://x.org up to 3 pages", {}, 10))
    assert ("next_pages", "10", "") in kinds(parse("list the products on https://x.org up to 50 pages", {}, 10))


def test_no_url_and_unsupported_actions_fail_with_what_was_not_understood():
    with pytest.raises(BrowseError, match="no web address"):
        parse("find me the cheapest flight", {}, 10)
    with pytest.raises(BrowseError) as caught:
        parse("book a table for two on https://restaurant.example", {}, 10)
    assert caught.value.code == "not_understood" and "'book'" in caught.value.message
