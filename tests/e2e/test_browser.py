"""The browser agent through the platform, against a local site the test serves."""

import pytest

from aiorch.browser.testsite import DemoSite

from tests.conftest import ON_BOTH_BACKENDS

pytestmark = [pytest.mark.e2e, ON_BOTH_BACKENDS]


@pytest.fixture(scope="module")
def site():
    with DemoSite() as running:
        yield running


@pytest.fixture(scope="module")
def web_system(site, tmp_path_factory, storage_env):
    from tests.conftest import make_system

    system = make_system(tmp_path_factory.mktemp("web"), AIORCH_ALLOWED_HOSTS=site.host, **storage_env)
    yield system
    system.stop()


def test_reviews_from_a_product_page_feed_the_sentiment_agent(web_system, site):
    task_id = web_system.submit(
        f"get the reviews from {site.url}/product/1 and tell me whether they are mostly positive")
    events = web_system.events(task_id)
    assert events[-1]["type"] == "completed", events[-1]
    plan = events[1]["plan"]
    assert [step["agent"] for step in plan["steps"]] == ["browser", "sentiment"]
    record = web_system.task(task_id)
    browser = record["steps"]["s1"]["result"]["output"]
    sentiment = record["steps"]["s2"]["result"]["output"]
    assert browser["title"] == "Trail Shoe" and len(browser["items"]) == 3
    assert [item["label"] for item in sentiment["items"]] == ["positive", "negative", "positive"]
    assert sentiment["overall_label"] == "positive" and "### s2 · sentiment" in record["answer"]
    shot = web_system.http.get(f"/v1/tasks/{task_id}/artifacts/screenshot.png")
    assert shot.status_code == 200 and shot.content.startswith(b"\x89PNG")


def test_a_table_becomes_a_csv_artifact(web_system, site):
    task_id = web_system.submit(f"read the table on {site.url}/table")
    assert web_system.events(task_id)[-1]["type"] == "completed"
    table = web_system.http.get(f"/v1/tasks/{task_id}/artifacts/table-1.csv").text
    assert table.splitlines()[0] == "Product,Price,Reviews" and "Trail Shoe,10.00,3" in table


@pytest.mark.parametrize(
    "request_text, reason",
    [
        ("open SITE/missing", "answered HTTP 404"),
        ("open http://no-such-host.invalid/page", "does not resolve"),
        ("open http://10.0.0.7/admin", "a private address"),
    ],
)
def test_bad_targets_fail_the_step_with_the_reason(web_system, site, request_text, reason):
    task_id = web_system.submit(request_text.replace("SITE", site.url))
    events = web_system.events(task_id)
    assert events[-1]["type"] == "failed" and reason in events[-2]["error"]["message"]


def test_a_table_from_the_browser_is_cleaned_by_the_csv_agent(web_system, site):
    task_id = web_system.submit(f"clean the price table on {site.url}/table")
    events = web_system.events(task_id)
    assert events[-1]["type"] == "completed", events[-1]
    assert [step["agent"] for step in events[1]["plan"]["steps"]] == ["browser", "csv"]
    output = web_system.task(task_id)["steps"]["s2"]["result"]["output"]
    assert output["source"] == "table-1.csv" and output["rows_after"] == 6
    assert [p["inferred_type"] for p in output["profile_after"]][1:] == ["number", "number"]
