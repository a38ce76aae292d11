"""The browser service on a real nats-server and real Chromium: its async handler runs on the
service's loop, next to the shared browser, and domain errors become failed steps."""

import asyncio
import inspect

import pytest

from aiorch.browser.app import BrowserService, _bounded
from aiorch.browser.config import BrowserSettings
from aiorch.browser.testsite import DemoSite
from aiorch.contracts import StepRequested, subjects
from aiorch.runtime.agent import StepFailure
from aiorch.runtime.testing import StepResults

pytestmark = pytest.mark.skipif(not BrowserSettings().chromium_path.exists(), reason="Chromium is not installed")


@pytest.fixture(scope="module")
def site():
    with DemoSite() as running:
        yield running


async def step(bus, results, instruction: str, step_id: str):
    request = StepRequested(task_id="t_1", step_id=step_id, attempt=1, agent="browser", instruction=instruction)
    await bus.publish(subjects.agent_requests("browser"), request)
    return await results.next(timeout=30)


@pytest.mark.nats
async def test_steps_run_on_the_service_loop_and_domain_errors_fail_them(nats_server, bus, tmp_path, site):
    assert inspect.iscoroutinefunction(BrowserService.handle)
    settings = BrowserSettings(
        nats_url=nats_server.url, storage_path=tmp_path / "objects", allowed_hosts=site.host, log_json=False,
        progress_interval_s=0.0, task_timeout_s=4, navigation_timeout_s=2,
    )
    assert not settings.openai_configured
    service = BrowserService(settings)
    await service.start()
    try:
        results = await StepResults(bus).start()
        done = await step(bus, results, f"read the price table on {site.url}/table", "s1")
        assert done.status == "completed", done.error
        assert done.output.tables and done.output.tables[0].rows > 0
        table = next(ref for ref in done.artifacts if ref.name == "table-1.csv")
        assert service.store.get(table.key).startswith(b"Product,Price,Reviews")
        assert any("open" in progress.message for progress in await results.progress())

        # Two steps at once share the loop and the browser: both finish.
        both = await asyncio.gather(step(bus, results, f"read {site.url}/products", "s2"),
                                    step(bus, results, f"read {site.url}/feed", "s3"))
        assert [result.status for result in both] == ["completed", "completed"]

        refused = await step(bus, results, "read https://example.invalid:1/", "s4")
        assert refused.status == "failed" and not refused.error.retryable
        no_url = await step(bus, results, "read the news", "s5")
        assert (no_url.status, no_url.error.code, no_url.error.retryable) == ("failed", "no_url", False)
        slow = await step(bus, results, f"open {site.url}/slow", "s6")
        assert (slow.status, slow.error.code) == ("failed", "timeout")
    finally:
        await service.stop()


async def test_the_last_guard_over_a_hung_browser_fails_the_step_retryably_and_cancels_the_work():
    cancelled = asyncio.Event()

    async def hang():
        try:
            await asyncio.sleep(30)
        finally:
            cancelled.set()

    with pytest.raises(StepFailure) as caught:
        await _bounded(hang(), 0.05)
    assert (caught.value.code, caught.value.retryable) == ("timeout", True) and cancelled.is_set()

    async def own_timeout():
        raise TimeoutError("the page's own limit")

    with pytest.raises(TimeoutError, match="own limit"):  # not the guard's: passed on as it is
        await _bounded(own_timeout(), 5)
    assert await _bounded(asyncio.sleep(0, "fine"), 5) == "fine"
