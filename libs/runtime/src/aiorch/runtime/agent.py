"""Agent-service base: one durable pull consumer, domain handler in a worker thread or on the loop.

A subclass names its agent and implements `handle(request, ctx) -> StepOutcome` with no
NATS or HTTP in it: a plain `def` runs in a worker thread (CPU work, blocking libraries),
an `async def` on the service's event loop (async libraries such as Playwright). The base
turns exceptions into failed results (code, message, retryable), answers redeliveries of
a finished step from a cache (idempotent per task/step/attempt), keeps long steps alive
with in-progress acks, reports progress, drains on SIGTERM, and serves /healthz, /readyz
and /metrics.
"""

import asyncio
import contextlib
import inspect
import json
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import structlog
from nats.aio.msg import Msg
from prometheus_client import Counter, Gauge, Histogram
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel, TypeAdapter, ValidationError

from aiorch.contracts import (
    AgentOutput,
    AgentSpec,
    FileRef,
    StepError,
    StepProgress,
    StepRequested,
    StepResult,
    subjects,
    utcnow,
)

from .broker import Bus, PullWorker
from .health import HealthServer
from .logs import configure_logging, get_logger
from .registry import Registration
from .settings import ServiceSettings
from .storage import ObjectStore, artifact_key, make_store
from .tracing import OUTCOME, context_from, setup_tracing, shutdown_tracing, step_attributes, tracer

log = get_logger(__name__)

STEPS = Counter("aiorch_agent_steps_total", "Steps handled", ["agent", "status"])
STEP_SECONDS = Histogram("aiorch_agent_step_seconds", "Time spent in the handler", ["agent"])
IN_FLIGHT = Gauge("aiorch_agent_steps_in_flight", "Steps being handled", ["agent"])
_OUTPUT = TypeAdapter(AgentOutput)


class AgentSettings(ServiceSettings):
    concurrency: int = 4
    ack_wait_s: float = 30.0
    max_deliver: int = 5
    inline_output_bytes: int = 256 * 1024
    progress_interval_s: float = 0.5
    result_cache_size: int = 1024
    registry_heartbeat_s: float = 5.0


class StepFailure(Exception):
    """A failure the handler understands: bad input, missing data, an unreachable site."""

    def __init__(self, code: str, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.code, self.message, self.retryable = code, message, retryable


@dataclass
class StepOutcome:
    output: BaseModel
    summary: str
    artifacts: list[FileRef] = field(default_factory=list)


class StepContext:
    """What a handler may use besides its request: files, artifacts, progress."""

    def __init__(self, request: StepRequested, store: ObjectStore, report, interval_s: float) -> None:
        self.request = request
        self.store = store
        self.artifacts: list[FileRef] = []
        self._report = report
        self._interval_s = interval_s
        self._last_report = 0.0

    def progress(self, fraction: float | None = None, message: str = "") -> None:
        """Report progress; throttled, safe to call often from the handler's thread or the loop."""
        now = time.monotonic()
        if now - self._last_report < self._interval_s:
            return
        self._last_report = now
        self._report(fraction, message)

    def read_file(self, ref: FileRef) -> bytes:
        return self.store.get(ref.key)

    def save_artifact(self, name: str, data: bytes, media_type: str) -> FileRef:
        request = self.request
        ref = self.store.put(artifact_key(request.task_id, request.step_id, name), name, data, media_type)
        self.artifacts.append(ref)
        return ref

    def upstream(self, output: str) -> list[Any]:
        """Values of `output` handed over by earlier steps, in plan order."""
        values = []
        for item in self.request.upstream:
            if item.output != output:
                continue
            if item.ref is not None:
                full = _OUTPUT.validate_json(self.store.get(item.ref.key))
                values.append(getattr(full, output))
            else:
                values.append(item.value)
        return values


class AgentService(ABC):
    name: ClassVar[str]
    spec: ClassVar[AgentSpec | None] = None
    """Published to the agent registry while the service runs (see aiorch.runtime.registry)."""
    settings_class: ClassVar[type[AgentSettings]] = AgentSettings

    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings
        self.store = make_store(settings)
        self._results: OrderedDict[tuple[str, str, int], bytes] = OrderedDict()
        self.bus: Bus | None = None
        self.worker: PullWorker | None = None
        self.health: HealthServer | None = None
        self.registration: Registration | None = None

    def setup(self) -> None:
        """Load models and data once, before the first message."""

    async def on_start(self) -> None:
        """Async resources (a browser, say) opened on the service's event loop."""

    async def on_stop(self) -> None:
        """Close what on_start opened, after the last step has drained."""

    @abstractmethod
    def handle(self, request: StepRequested, ctx: StepContext) -> StepOutcome | Awaitable[StepOutcome]:
        """One step. A plain `def` runs in a worker thread; an `async def` on the service's loop,
        where it must not block (use asyncio.to_thread for blocking parts, e.g. ctx.save_artifact
        on S3)."""

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        configure_logging(self.name, self.settings.log_level, self.settings.log_json)
        setup_tracing(f"aiorch-{self.name}")
        await asyncio.to_thread(self.setup)
        self.loop = asyncio.get_running_loop()
        await self.on_start()
        self.bus = await Bus.open(self.settings, name=f"aiorch-{self.name}")
        await self.bus.wait_for_streams([subjects.STREAM_WORK, subjects.STREAM_RESULTS])
        durable = subjects.agent_consumer(self.name)
        await self.bus.ensure_consumer(
            subjects.STREAM_WORK,
            durable,
            subjects.agent_requests(self.name),
            ack_wait_s=self.settings.ack_wait_s,
            max_deliver=self.settings.max_deliver,
        )
        self.worker = PullWorker(
            self.bus, subjects.STREAM_WORK, durable, self._on_message, concurrency=self.settings.concurrency
        )
        await self.worker.start()
        if self.spec is not None:  # registered once it takes work: the planner may plan for it now
            self.registration = Registration(self.spec, self.settings.registry_heartbeat_s)
            await self.registration.start(self.bus.js)
        self.health = HealthServer(
            self.name, self.settings.health_host, self.settings.health_port, self.is_ready
        )
        await self.health.start()
        log.info("agent ready", agent=self.name, health_port=self.health.port)

    def is_ready(self) -> bool:
        return bool(self.worker and self.worker.ready and self.bus and self.bus.nc.is_connected)

    async def stop(self) -> None:
        if self.registration:  # first leave the registry: no new plans for this instance
            await self.registration.stop()
        if self.worker:
            await self.worker.stop(self.settings.drain_timeout_s)
        await self.on_stop()
        if self.bus:
            await self.bus.close()
        if self.health:
            await self.health.stop()
        await shutdown_tracing()

    # --- one message -------------------------------------------------------------------

    async def _on_message(self, msg: Msg) -> None:
        try:
            request = StepRequested.model_validate_json(msg.data)
        except ValidationError as exc:
            await self._reject(msg, exc)
            return
        # The step is a span in the task's trace (the request's traceparent is its parent);
        # the result, published inside it, carries it on to the orchestrator.
        attributes = step_attributes(request.task_id, request.step_id, self.name, request.attempt)
        with tracer().start_as_current_span(f"step {self.name}", context=context_from(msg.headers),
                                            kind=SpanKind.CONSUMER, attributes=attributes) as span:
            outcome = await self._handle_step(msg, request)
            span.set_attribute(OUTCOME, outcome)
            if outcome == "failed":
                span.set_status(StatusCode.ERROR)

    async def _handle_step(self, msg: Msg, request: StepRequested) -> str:
        """Run one valid step request (or answer it from the cache); its outcome."""
        key = (request.task_id, request.step_id, request.attempt)
        cached = self._results.get(key)
        if cached is not None:
            await self._publish_result(key, cached)
            await msg.ack()
            return "cached"
        if request.deadline is not None and request.deadline < utcnow():
            log.info("step past its deadline, dropped", task_id=request.task_id, step_id=request.step_id)
            await msg.ack()
            return "expired"
        structlog.contextvars.bind_contextvars(task_id=request.task_id, step_id=request.step_id)
        heartbeat = asyncio.create_task(self._keep_alive(msg))
        IN_FLIGHT.labels(self.name).inc()
        try:
            result = await self._execute(request)
            payload = result.model_dump_json().encode()
            if len(payload) > self.settings.inline_output_bytes and result.output is not None:
                payload = await asyncio.to_thread(self._offload_output, result)
            # Still in progress while the result is stored and published (a publish may retry
            # through a leader election): no redelivery to another replica meanwhile.
            await self._publish_result(key, payload)
            self._remember(key, payload)
            await msg.ack()
        finally:
            heartbeat.cancel()
            IN_FLIGHT.labels(self.name).dec()
        STEPS.labels(self.name, result.status).inc()
        log.info("step finished", status=result.status, ms=round(result.duration_ms, 2),
                 error=result.error.code if result.error else None)
        if result.error:
            trace.get_current_span().set_attribute("aiorch.error", result.error.code)
        return result.status

    async def _execute(self, request: StepRequested) -> StepResult:
        loop = asyncio.get_running_loop()

        def report(fraction: float | None, message: str) -> None:
            progress = StepProgress(
                task_id=request.task_id, step_id=request.step_id, attempt=request.attempt,
                fraction=fraction, message=message,
            )
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._publish_progress(progress)))

        ctx = StepContext(request, self.store, report, self.settings.progress_interval_s)
        started = time.perf_counter()
        common = dict(task_id=request.task_id, step_id=request.step_id, attempt=request.attempt, agent=self.name)
        try:
            with STEP_SECONDS.labels(self.name).time():
                outcome = await self._call_handler(request, ctx)
        except StepFailure as exc:
            error = StepError(code=exc.code, message=exc.message, retryable=exc.retryable)
        except Exception as exc:  # a bug or a transient fault: report it, let the planner retry
            log.exception("handler raised")
            error = StepError(code="internal_error", message=f"{type(exc).__name__}: {exc}", retryable=True)
        else:
            return StepResult(
                **common, status="completed", output=outcome.output, summary=outcome.summary,
                artifacts=[*ctx.artifacts, *(a for a in outcome.artifacts if a not in ctx.artifacts)],
                duration_ms=(time.perf_counter() - started) * 1000,
            )
        return StepResult(
            **common, status="failed", error=error, summary=f"**Failed:** {error.message}",
            artifacts=ctx.artifacts, duration_ms=(time.perf_counter() - started) * 1000,
        )

    async def _call_handler(self, request: StepRequested, ctx: StepContext) -> StepOutcome:
        if inspect.iscoroutinefunction(self.handle):
            return await self.handle(request, ctx)
        return await asyncio.to_thread(self.handle, request, ctx)

    def _offload_output(self, result: StepResult) -> bytes:
        """Large outputs travel by reference: the JSON goes to the object store."""
        data = result.output.model_dump_json().encode()
        key = artifact_key(result.task_id, result.step_id, "output.json")
        ref = self.store.put(key, "output.json", data, "application/json")
        return result.model_copy(update={"output": None, "output_ref": ref}).model_dump_json().encode()

    async def _reject(self, msg: Msg, exc: ValidationError) -> None:
        """A request that does not validate fails its step (if it names one) and is never retried."""
        try:
            raw = json.loads(msg.data)
            result = StepResult(
                task_id=raw["task_id"], step_id=raw["step_id"], attempt=int(raw.get("attempt") or 1),
                agent=self.name, status="failed",
                error=StepError(code="invalid_request", message=f"invalid step request: {exc.errors()[0]['msg']}"),
            )
        except Exception:
            log.error("unreadable step request dropped", error=str(exc), data=msg.data[:200].decode(errors="replace"))
            await msg.term()
            return
        await self._publish_result((result.task_id, result.step_id, result.attempt), result.model_dump_json().encode())
        await msg.ack()

    async def _publish_result(self, key: tuple[str, str, int], payload: bytes) -> None:
        msg_id = f"{key[0]}.{key[1]}.{key[2]}.result"
        # Tried again while the results stream elects a leader (a NATS node died); the id dedups.
        await self.bus.publish_bytes(subjects.STEP_RESULTS, payload, headers={"Nats-Msg-Id": msg_id})

    async def _publish_progress(self, progress: StepProgress) -> None:
        with contextlib.suppress(Exception):  # progress is best effort
            await self.bus.js.publish(subjects.STEP_PROGRESS, progress.model_dump_json().encode())

    async def _keep_alive(self, msg: Msg) -> None:
        """Tell JetStream the step is still being worked on, so ack_wait can stay short."""
        while True:
            await asyncio.sleep(max(self.settings.ack_wait_s / 3, 0.2))
            with contextlib.suppress(Exception):
                await msg.in_progress()

    def _remember(self, key: tuple[str, str, int], payload: bytes) -> None:
        self._results[key] = payload
        while len(self._results) > self.settings.result_cache_size:
            self._results.popitem(last=False)


def run_agent(service_class: type[AgentService]) -> None:
    """Entry point for `python -m aiorch.<agent>`."""
    from .service import run_service
    from .settings import load_settings

    service = service_class(load_settings(service_class.settings_class))
    run_service(service.start, service.stop)
