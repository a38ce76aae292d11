"""The agent-service base against a real nats-server."""

import asyncio
import json
import threading

import httpx
import pytest
from nats.js.api import RetentionPolicy

from aiorch.contracts import SentimentItem, SentimentOutput, StepRequested, subjects
from aiorch.runtime.agent import AgentService, AgentSettings, StepFailure, StepOutcome
from aiorch.runtime.testing import StepResults

pytestmark = pytest.mark.nats


def output(texts: list[str]) -> SentimentOutput:
    items = [SentimentItem(text=t, label="neutral", compound=0, positive=0, neutral=1, negative=0) for t in texts]
    return SentimentOutput(source="inline", items=items, distribution={"neutral": len(items)},
                           overall_label="neutral", mean_compound=0)


class ProbeAgent(AgentService):
    """Behaves as the instruction says, and counts its calls."""

    name = "probe"

    def setup(self) -> None:
        self.calls = 0
        self.release = threading.Event()

    def handle(self, request: StepRequested, ctx) -> StepOutcome:
        self.calls += 1
        match request.instruction:
            case "fail":
                raise StepFailure("bad_input", "the input is bad")
            case "crash":
                raise ZeroDivisionError("division by zero")
            case "big":
                return StepOutcome(output(["x" * 1000] * 400), "big")
            case "slow":
                for index in range(5):
                    ctx.progress(index / 5, f"part {index}")
                    self.release.wait(0.2)
                return StepOutcome(output(["slow"]), "slow done")
            case _:
                ref = ctx.save_artifact("echo.txt", request.instruction.encode(), "text/plain")
                return StepOutcome(output([request.instruction]), f"echo {ref.name}")


@pytest.fixture
async def agent(nats_server, bus, tmp_path):
    settings = AgentSettings(nats_url=nats_server.url, storage_path=tmp_path / "objects", progress_interval_s=0.0,
                             inline_output_bytes=64 * 1024, log_json=False)
    service = ProbeAgent(settings)
    await service.start()
    yield service
    await service.stop()


@pytest.fixture
async def results(bus):
    return await StepResults(bus).start()


async def send(bus, instruction: str, step_id: str = "s1", attempt: int = 1, msg_id: str | None = None) -> None:
    request = StepRequested(task_id="t_1", step_id=step_id, attempt=attempt, agent="probe", instruction=instruction)
    await bus.publish(subjects.agent_requests("probe"), request, msg_id=msg_id)


async def test_provisioning_is_idempotent(bus):
    await bus.provision()
    await bus.provision()
    work = await bus.js.stream_info(subjects.STREAM_WORK)
    assert work.config.retention == RetentionPolicy.WORK_QUEUE
    assert (await bus.tasks_kv()).__class__.__name__ == "KeyValue"


async def test_a_step_completes_with_output_and_artifact(agent, bus, results):
    await send(bus, "hello")
    result = await results.next()
    assert result.status == "completed" and result.output.items[0].text == "hello"
    assert [ref.name for ref in result.artifacts] == ["echo.txt"]
    assert agent.store.get(result.artifacts[0].key) == b"hello"


async def test_step_failure_becomes_a_failed_result_that_is_not_retried(agent, bus, results):
    await send(bus, "fail")
    result = await results.next()
    assert result.status == "failed"
    assert (result.error.code, result.error.message, result.error.retryable) == ("bad_input", "the input is bad", False)


async def test_an_unexpected_exception_is_a_retryable_internal_error(agent, bus, results):
    await send(bus, "crash")
    result = await results.next()
    assert result.error.code == "internal_error" and result.error.retryable
    assert "ZeroDivisionError" in result.error.message


async def test_a_redelivered_step_is_answered_from_the_cache_not_run_twice(agent, bus, results):
    await send(bus, "once", msg_id="a")
    first = await results.next()
    await send(bus, "once", msg_id="b")  # same task/step/attempt, a different message
    await asyncio.sleep(1.0)
    assert agent.calls == 1 and first.status == "completed"


async def test_large_outputs_travel_by_reference(agent, bus, results):
    await send(bus, "big")
    result = await results.next()
    assert result.output is None and result.output_ref is not None
    stored = json.loads(agent.store.get(result.output_ref.key))
    assert len(stored["items"]) == 400


async def test_progress_is_reported(agent, bus, results):
    agent.release.set()
    await send(bus, "slow")
    assert (await results.next()).summary == "slow done"
    messages = await results.progress()
    assert [m.message for m in messages][:2] == ["part 0", "part 1"]


async def test_malformed_requests_fail_their_step_or_are_dropped_and_the_agent_keeps_serving(agent, bus, results):
    await bus.js.publish(subjects.agent_requests("probe"), json.dumps({"task_id": "t_1", "step_id": "s9"}).encode())
    result = await results.next()
    assert result.step_id == "s9" and result.error.code == "invalid_request"
    await bus.js.publish(subjects.agent_requests("probe"), b"\xff not json")
    await send(bus, "still here", step_id="s2")
    assert (await results.next()).output.items[0].text == "still here"


async def test_stop_drains_the_step_in_hand(agent, bus, results):
    await send(bus, "slow")
    await asyncio.sleep(0.3)
    await agent.stop()
    assert (await results.next()).summary == "slow done"


async def test_health_readiness_and_metrics(agent, bus, results):
    await send(bus, "hello")
    await results.next()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{agent.health.port}") as client:
        assert (await client.get("/healthz")).json()["status"] == "ok"
        assert (await client.get("/readyz")).status_code == 200
        metrics = (await client.get("/metrics")).text
    assert 'aiorch_agent_steps_total{agent="probe",status="completed"}' in metrics


class AsyncProbeAgent(AgentService):
    """An `async def` handler: runs on the service's loop, no worker thread."""

    name = "aprobe"

    def setup(self) -> None:
        self.threads: set[int] = set()
        self.loops: set[asyncio.AbstractEventLoop] = set()
        self.running = self.peak = 0

    async def handle(self, request: StepRequested, ctx) -> StepOutcome:
        self.threads.add(threading.get_ident())
        self.loops.add(asyncio.get_running_loop())
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            match request.instruction:
                case "fail":
                    raise StepFailure("bad_input", "the input is bad")
                case "crash":
                    raise ZeroDivisionError("division by zero")
                case "wait":
                    for index in range(3):
                        ctx.progress(index / 3, f"{request.step_id} part {index}")
                        await asyncio.sleep(0.2)
                    return StepOutcome(output([request.step_id]), "waited")
                case _:
                    ref = await asyncio.to_thread(ctx.save_artifact, "echo.txt", request.instruction.encode(), "text/plain")
                    return StepOutcome(output([request.instruction]), f"echo {ref.name}")
        finally:
            self.running -= 1


@pytest.fixture
async def async_agent(nats_server, bus, tmp_path):
    settings = AgentSettings(nats_url=nats_server.url, storage_path=tmp_path / "objects", progress_interval_s=0.0,
                             log_json=False)
    service = AsyncProbeAgent(settings)
    await service.start()
    yield service
    await service.stop()


async def send_async(bus, instruction: str, step_id: str = "s1") -> None:
    request = StepRequested(task_id="t_1", step_id=step_id, attempt=1, agent="aprobe", instruction=instruction)
    await bus.publish(subjects.agent_requests("aprobe"), request)


async def test_an_async_handler_runs_on_the_service_loop_concurrently_with_progress(async_agent, bus, results):
    for step_id in ("s1", "s2", "s3"):
        await send_async(bus, "wait", step_id)
    finished = [await results.next() for _ in range(3)]
    assert sorted(r.step_id for r in finished) == ["s1", "s2", "s3"]
    assert {r.status for r in finished} == {"completed"} and {r.summary for r in finished} == {"waited"}
    assert async_agent.loops == {async_agent.loop}  # no worker thread, no second loop
    assert async_agent.threads == {threading.get_ident()}
    assert async_agent.peak >= 2  # steps interleave on the loop
    messages = {m.message for m in await results.progress()}
    assert {"s1 part 0", "s2 part 1", "s3 part 2"} <= messages


async def test_an_async_handler_saves_artifacts_and_its_errors_become_failed_results(async_agent, bus, results):
    await send_async(bus, "hello", "s1")
    done = await results.next()
    assert done.status == "completed" and [ref.name for ref in done.artifacts] == ["echo.txt"]
    assert async_agent.store.get(done.artifacts[0].key) == b"hello"
    await send_async(bus, "fail", "s2")
    failed = await results.next()
    assert (failed.error.code, failed.error.message, failed.error.retryable) == ("bad_input", "the input is bad", False)
    await send_async(bus, "crash", "s3")
    crashed = await results.next()
    assert crashed.error.code == "internal_error" and crashed.error.retryable and "ZeroDivisionError" in crashed.error.message


async def test_stop_drains_an_async_step_in_hand(async_agent, bus, results):
    await send_async(bus, "wait", "s1")
    await asyncio.sleep(0.3)
    await async_agent.stop()
    assert (await results.next()).summary == "waited"
