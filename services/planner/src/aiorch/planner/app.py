"""Planner service: wires NATS messages to the planner backends and the orchestrator."""

import asyncio
import contextlib
import json
import time
import uuid
from datetime import datetime

from nats.aio.msg import Msg
from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import Counter, Histogram
from pydantic import ValidationError

from aiorch.contracts import (
    CancelRequested,
    PlanRequest,
    StepProgress,
    StepRequested,
    StepResult,
    StepStatus,
    TaskRecord,
    TaskStatus,
    TaskSubmitted,
    subjects,
    utcnow,
)
from aiorch.contracts.subjects import is_valid_task_id
from aiorch.runtime.broker import Bus, PullWorker
from aiorch.runtime.health import HealthServer
from aiorch.runtime.logs import configure_logging
from aiorch.runtime.registry import RegistryView, Snapshot
from aiorch.runtime.retention import delete_files
from aiorch.runtime.storage import ObjectStore, make_store
from aiorch.runtime.tracing import (
    OUTCOME,
    TASK_ID,
    context_from,
    current_trace_id,
    current_traceparent,
    parent_in_trace,
    setup_tracing,
    shutdown_tracing,
    step_attributes,
    tracer,
)

from .config import PlannerSettings
from .logs import log
from .orchestrator import Effects, Orchestrator, Policy
from .orphans import ConsumerProgress, OrphanWatch
from .planners import OfflinePlanner, PlannerBackend
from .planners.catalog import RegistryCatalog, StaticCatalog
from .planners.llm import OpenAIPlanner
from .store import TaskStore, Transition

TASKS = Counter("aiorch_planner_tasks_total", "Tasks that ended", ["status"])
UNSETTLED_RETRY_S = 1.0
"""How soon the sweep tries again to settle a task whose effects did not all go out."""
NEVER_SUBMITTED = ("the task was recorded but no planner ever took its submission (the gateway stopped or lost "
                   "the bus before sending it, or the bus gave up delivering it); submit it again")
PLAN_SECONDS = Histogram("aiorch_planner_plan_seconds", "Time to plan a task", ["planner"])


def make_planner(settings: PlannerSettings, catalog: RegistryCatalog | StaticCatalog | None = None) -> PlannerBackend:
    """The configured backend over `catalog` (the agent registry's in the service; the
    installed agents' for the `aiorch plan` command)."""
    offline = OfflinePlanner(catalog)
    configured = settings.openai_configured
    if settings.planner_backend == "offline" or (settings.planner_backend == "auto" and not configured):
        return offline
    if not configured:
        raise SystemExit("AIORCH_PLANNER_BACKEND=openai needs OPENAI_API_KEY or OPENAI_BASE_URL")
    return OpenAIPlanner(
        settings.openai_key(), settings.openai_base_url, settings.openai_model,
        settings.planner_timeout_s, settings.planner_retries, fallback=offline,
        max_tokens=settings.planner_max_tokens,
    )


class PlannerService:
    def __init__(self, settings: PlannerSettings) -> None:
        self.settings = settings
        self.catalog = RegistryCatalog()  # the agents come from the registry, as they start and stop
        self.planner = make_planner(settings, self.catalog)
        self.orchestrator = Orchestrator(
            Policy(step_timeout_s=settings.step_timeout_s, max_attempts=settings.max_attempts,
                   backoff_s=settings.retry_backoff_s)
        )
        self.workers: list[PullWorker] = []
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._background: set[asyncio.Task] = set()
        self._swept = False
        self._unsettled: set[str] = set()
        """Tasks whose last transition's events or dispatches may not have gone out."""
        self._wake = asyncio.Event()
        self._submitted_seen: dict[str, float] = {}
        """When this planner first saw each `submitted` record (its own clock: no skew with the gateway's)."""
        self._old_submitted: dict[str, OrphanWatch] = {}
        """Old `submitted` tasks, watched until their submission shows up or cannot any more."""
        self._submission_consumers: tuple[float, list[ConsumerProgress] | None] | None = None
        """(when, progress) of the planner's submission consumers as last asked; None: the bus did not answer."""

    async def start(self) -> None:
        configure_logging("planner", self.settings.log_level, self.settings.log_json)
        setup_tracing("aiorch-planner")
        await asyncio.to_thread(OfflinePlanner.warm)
        self.bus = await Bus.open(self.settings, name="aiorch-planner")
        await self.bus.provision()
        self.registry = RegistryView(on_change=self._on_registry, grace_s=self.settings.registry_grace_s)
        await self.registry.start(self.bus.js)
        self.store = TaskStore(self.bus.js, await self.bus.tasks_kv())
        self.objects: ObjectStore = await asyncio.to_thread(make_store, self.settings)
        consumers = [
            (subjects.STREAM_TASKS, subjects.CONSUMER_PLANNER_SUBMITTED, subjects.TASKS_SUBMITTED, self._on_submitted),
            (subjects.STREAM_TASKS, subjects.CONSUMER_PLANNER_SUBMITTED_BY, subjects.TASKS_SUBMITTED_BY_ALL,
             self._on_submitted),
            (subjects.STREAM_TASKS, subjects.CONSUMER_PLANNER_CANCEL, subjects.TASK_CANCEL_ALL, self._on_cancel),
            (subjects.STREAM_RESULTS, subjects.CONSUMER_PLANNER_RESULTS, subjects.STEP_RESULTS, self._on_result),
            (subjects.STREAM_RESULTS, subjects.CONSUMER_PLANNER_PROGRESS, subjects.STEP_PROGRESS, self._on_progress),
        ]
        for stream, durable, subject, handler in consumers:
            await self.bus.ensure_consumer(stream, durable, subject, ack_wait_s=30, max_deliver=10)
            worker = PullWorker(self.bus, stream, durable, handler, concurrency=self.settings.concurrency)
            await worker.start()
            self.workers.append(worker)
        self._plan_sub = await self.bus.nc.subscribe(subjects.PLANNER_PLAN, queue="planner", cb=self._on_plan_request)
        self.health = HealthServer("planner", self.settings.health_host, self.settings.health_port, self.is_ready)
        await self.health.start()
        self._spawn(self._sweep_forever())
        log.info("planner ready", backend=self.planner.name, health_port=self.health.port)

    def is_ready(self) -> bool:
        return bool(self.workers) and all(worker.ready for worker in self.workers) and self.bus.nc.is_connected

    def _on_registry(self, snapshot: Snapshot) -> None:
        """The agents changed: plan with the new catalog from now on; its examples are encoded
        in the background (a plan that comes first encodes them itself)."""
        catalog = self.catalog.update(snapshot)
        log.info("agent catalog changed", agents={name: spec.version for name, spec in catalog.specs.items()},
                 gone=sorted(catalog.gone), problems=len(snapshot.problems))
        self._spawn(asyncio.to_thread(OfflinePlanner.warm, catalog))

    async def stop(self) -> None:
        if getattr(self, "registry", None):
            await self.registry.stop()
        for worker in self.workers:
            await worker.stop(self.settings.drain_timeout_s)
        for handle in self._timers.values():
            handle.cancel()
        for task in self._background:
            task.cancel()
        await self.bus.close()
        await self.health.stop()
        await shutdown_tracing()

    # --- message handlers ------------------------------------------------------------------

    async def _on_submitted(self, msg: Msg) -> None:
        """Plan a task: a span in the trace its submission carries (the gateway's request; a
        new trace for a message without a well-formed traceparent)."""
        with tracer().start_as_current_span("plan", context=context_from(msg.headers), kind=SpanKind.CONSUMER):
            await self._plan_submitted(msg)

    async def _plan_submitted(self, msg: Msg) -> None:
        # On `aiorch.tasks.submitted.<principal>` the subject names the owner: the NATS
        # permissions let only that principal's user publish there (see aiorch.runtime.natsauth).
        publisher = subjects.submitter_from_subject(msg.subject)
        seq = msg.metadata.sequence.stream if msg.metadata else None
        try:
            submitted = TaskSubmitted.model_validate_json(msg.data)
        except ValidationError as exc:
            await self._reject_malformed(msg.data, exc, publisher, seq)
            await msg.ack()
            return
        if publisher is not None:
            if submitted.owner is not None and submitted.owner != publisher:
                await self._refuse(submitted.task_id, publisher, seq, f"owner {submitted.owner!r} is not the "
                                   f"publisher {publisher!r}: a bus principal submits only as itself")
                await msg.ack()
                return
            # Files only under the task's own upload folder: a key naming another task's upload
            # would let this principal have an agent read (and hand back) another's file.
            foreign = [ref.key for ref in submitted.files if not ref.key.startswith(f"uploads/{submitted.task_id}/")]
            if foreign:
                await self._refuse(submitted.task_id, publisher, seq, f"file {foreign[0]!r} is not under "
                                   f"uploads/{submitted.task_id}/: a bus principal may only send its task's own uploads")
                await msg.ack()
                return
            submitted = submitted.model_copy(update={"owner": publisher})
        trace_api.get_current_span().set_attribute(TASK_ID, submitted.task_id)
        record = TaskRecord(
            task_id=submitted.task_id, owner=submitted.owner, request=submitted.request, files=submitted.files,
            params=submitted.params, created_at=submitted.submitted_at,
            trace_id=current_trace_id(), traceparent=current_traceparent(),
        )
        # The gateway writes the record before publishing; other publishers do not.
        current = await self.store.get(submitted.task_id)
        if current is None and publisher is None and submitted.source == "gateway":
            log.info("submission of a deleted task dropped", task_id=submitted.task_id)
            await self._forget_submission(seq)
            await msg.ack()
            return
        if current is None and not await self.store.create(record):
            current = await self.store.get(submitted.task_id)
        if current is not None and current[1].owner != submitted.owner:
            # Someone else's task id: never plan into (or reveal) another principal's task.
            await self._refuse(None, submitted.owner, seq, f"task id {submitted.task_id!r} is already in use")
            await msg.ack()
            return
        if current is not None and current[1].status != TaskStatus.submitted:
            if current[1].submitted_seq not in (None, seq):
                await self._forget_submission(seq)  # a re-publication after the duplicate window
            await msg.ack()  # already planned: a redelivery
            return
        with PLAN_SECONDS.labels(self.planner.name).time():
            plan = await self.planner.plan(submitted.task_id, submitted.request, submitted.files, submitted.params)

        def accept(record: TaskRecord) -> Effects | None:
            effects = self.orchestrator.accept(record, plan)
            if effects is not None:
                record.submitted_seq = seq  # deleting the task deletes this message too
                _join_trace(record)
            return effects

        await self._transition(submitted.task_id, accept)
        await msg.ack()

    async def _reject_malformed(self, data: bytes, exc: ValidationError, owner: str | None, seq: int | None) -> None:
        first = exc.errors()[0]
        reason = f"invalid TaskSubmitted: {'.'.join(map(str, first['loc'])) or 'message'}: {first['msg']}"
        try:
            task_id = json.loads(data).get("task_id")
        except Exception:
            task_id = None
        log.warning("rejected a malformed submission", task_id=task_id, reason=reason,
                    data=data[:300].decode(errors="replace"))
        await self._refuse(task_id, owner, seq, reason)

    async def _refuse(self, task_id, owner: str | None, seq: int | None, reason: str) -> None:
        """Record a submission that cannot run as a rejected task of `owner`, with the reason.
        An invalid or taken id gets a fresh one: another principal's task is never touched."""
        if not isinstance(task_id, str) or not is_valid_task_id(task_id):
            task_id = None
        if task_id is not None and not await self.store.create(TaskRecord(task_id=task_id, owner=owner, request="")):
            current = await self.store.get(task_id)
            if current is not None and seq is not None and current[1].submitted_seq == seq:
                return  # refused already: a redelivery
            task_id = None
        if task_id is None:
            # A fresh id of its own (two planners refusing at once must not share one).
            task_id = f"t_rejected_{utcnow().strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:12]}"
            await self.store.create(TaskRecord(task_id=task_id, owner=owner, request=""))
        log.warning("submission refused", task_id=task_id, owner=owner, reason=reason)

        def reject(record: TaskRecord) -> Effects | None:
            effects = self.orchestrator.reject(record, reason)
            if effects is not None:
                record.submitted_seq = seq
                _join_trace(record)
            return effects

        await self._transition(task_id, reject)

    async def _forget_submission(self, seq: int | None) -> None:
        """Delete a submission message no record refers to (the task stream keeps messages
        until the retention sweep removes their task)."""
        if seq is None:
            return
        with contextlib.suppress(Exception):
            await self.bus.js.delete_msg(subjects.STREAM_TASKS, seq)

    async def _on_result(self, msg: Msg) -> None:
        try:
            result = StepResult.model_validate_json(msg.data)
        except ValidationError as exc:
            log.error("unreadable step result dropped", error=str(exc), data=msg.data[:300].decode(errors="replace"))
            await msg.term()
            return
        attributes = {**step_attributes(result.task_id, result.step_id, result.agent, result.attempt),
                      OUTCOME: result.status}
        if result.error:
            attributes["aiorch.error"] = result.error.code
        # A span in the trace of the agent's step (the result's traceparent), else the task's.
        await self._transition(result.task_id, lambda r: self.orchestrator.step_result(r, result),
                               span=f"result {result.agent}", attributes=attributes,
                               incoming=context_from(msg.headers), error=result.status != "completed")
        if await self.store.get(result.task_id) is None:
            await self._remove_output(result)
        await msg.ack()

    async def _remove_output(self, result: StepResult) -> None:
        """A step of a deleted (or expired) task finished: remove what it wrote."""
        try:
            objects = await asyncio.to_thread(delete_files, self.objects, result.task_id)
        except Exception as exc:
            log.warning("could not remove the output of a deleted task", task_id=result.task_id, error=str(exc))
            return
        log.info("output of a deleted task removed", audit="delete", task_id=result.task_id, step_id=result.step_id,
                 objects=objects)

    async def _on_progress(self, msg: Msg) -> None:
        with contextlib.suppress(ValidationError):
            progress = StepProgress.model_validate_json(msg.data)
            await self._transition(progress.task_id, lambda r: self.orchestrator.step_progress(r, progress))
        await msg.ack()

    async def _on_cancel(self, msg: Msg) -> None:
        with contextlib.suppress(ValidationError):
            cancel = CancelRequested.model_validate_json(msg.data)
            # In the task's trace, linked to the trace of the request that cancelled it.
            await self._transition(cancel.task_id, lambda r: self.orchestrator.cancel(r, cancel.reason),
                                   span="cancel", incoming=context_from(msg.headers))
        await msg.ack()

    async def _on_plan_request(self, msg: Msg) -> None:
        with tracer().start_as_current_span("dry-run plan", context=context_from(msg.headers),
                                            kind=SpanKind.SERVER):
            await self._answer_plan_request(msg)

    async def _answer_plan_request(self, msg: Msg) -> None:
        try:
            request = PlanRequest.model_validate_json(msg.data)
            plan = await self.planner.plan("dry_run", request.request, request.files, request.params)
            await msg.respond(plan.model_dump_json().encode())
        except ValidationError as exc:
            await msg.respond(json.dumps({"error": str(exc.errors()[0]["msg"])}).encode())

    # --- carrying out transitions -------------------------------------------------------------

    async def _transition(self, task_id: str, transition: Transition, span: str | None = None,
                          attributes: dict | None = None, incoming: Context | None = None,
                          error: bool = False) -> None:
        """Apply `transition` to the task's record and carry out its effects; inside a span
        named `span` (when given) in the task's trace: a child of `incoming` (or the span
        active now) when that is in the task's trace, else of the task's stored context."""
        began = time.time_ns()
        try:
            outcome = await self.store.update(task_id, transition)
            if outcome is None:
                return
            record, effects = outcome
            if span is None:
                await self._apply(record, effects)
                return
            parent, links = parent_in_trace(record.trace_id, record.traceparent, incoming)
            with tracer().start_as_current_span(span, context=parent, links=links, start_time=began,
                                                attributes={TASK_ID: task_id, **(attributes or {})}) as current:
                if error:
                    current.set_status(StatusCode.ERROR)
                await self._apply(record, effects)
        except Exception:
            # The record may have changed without its events or dispatches all going out (the
            # bus had no majority for longer than the publish retries, or the record's write
            # timed out after it was stored): the redelivered message then finds nothing left
            # to do, so the sweep settles the task from its record, soon.
            self._unsettled.add(task_id)
            self._wake.set()
            raise

    async def _apply(self, record: TaskRecord, effects: Effects) -> None:
        """Publish the events, then dispatch the steps (one span each: the agent's step is
        its child); in this order, as `Bus.publish_many` would."""
        publications = [
            (subjects.task_events(event.task_id), event, f"{event.task_id}.{event.seq}") for event in effects.events
        ]
        await self.bus.publish_many(publications)
        await asyncio.gather(*(self._dispatch(request) for request in effects.dispatch))
        for request in effects.dispatch:
            self._arm_timeout(request.task_id, request.step_id, request.attempt, request.deadline)
        for step_id, when in effects.retries:
            self._schedule_retry(record.task_id, step_id, when)
        if record.terminal:
            TASKS.labels(record.status.value).inc()
            for key in [key for key in self._timers if key[0] == record.task_id]:
                self._timers.pop(key).cancel()

    async def _dispatch(self, request: StepRequested) -> None:
        attributes = step_attributes(request.task_id, request.step_id, request.agent, request.attempt)
        with tracer().start_as_current_span(f"dispatch {request.agent}", kind=SpanKind.PRODUCER,
                                            attributes=attributes):
            await self.bus.publish(subjects.agent_requests(request.agent), request, _request_id(request))

    def _arm_timeout(self, task_id: str, step_id: str, attempt: int, deadline: datetime) -> None:
        def fire() -> None:
            self._timers.pop((task_id, step_id), None)
            self._spawn(self._transition(task_id, lambda r: self.orchestrator.step_timed_out(r, step_id, attempt),
                                         span="timeout", attributes={"aiorch.step_id": step_id}, error=True))

        self._set_timer(task_id, step_id, deadline, fire)

    def _schedule_retry(self, task_id: str, step_id: str, when: datetime) -> None:
        def fire() -> None:
            self._timers.pop((task_id, step_id), None)
            self._spawn(self._transition(task_id, lambda r: self.orchestrator.retry_due(r, step_id),
                                         span="retry", attributes={"aiorch.step_id": step_id}))

        self._set_timer(task_id, step_id, when, fire)

    def _set_timer(self, task_id: str, step_id: str, when: datetime, fire) -> None:
        old = self._timers.pop((task_id, step_id), None)
        if old:
            old.cancel()
        delay = max((when - utcnow()).total_seconds(), 0.0)
        self._timers[(task_id, step_id)] = asyncio.get_running_loop().call_later(delay, fire)

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- recovery ----------------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        only: set[str] | None = None  # every task, on the sweep's interval
        while True:
            self._wake.clear()
            try:
                await self.sweep(only)
            except Exception:
                log.exception("recovery sweep failed")
            if self._unsettled:  # again soon, once the bus has had a moment: just those
                await asyncio.sleep(UNSETTLED_RETRY_S)
                only = set(self._unsettled)
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.sweep_interval_s)
                only = set(self._unsettled)
            except TimeoutError:
                only = None

    async def sweep(self, only: set[str] | None = None) -> None:
        """Finish what a dead planner left, or what this one could not send: re-publish the
        last events, re-dispatch running steps (JetStream drops the duplicates), re-arm timers
        and retries. `only`: just these tasks (the unsettled ones), not every task."""
        first = not self._swept and only is None
        self._swept = self._swept or only is None
        failed = 0
        task_ids = sorted(only) if only is not None else await self.store.keys()
        if only is None:  # records deleted or expired while submitted are not visited again
            listed = set(task_ids)
            for seen in (self._submitted_seen, self._old_submitted):
                for task_id in seen.keys() - listed:
                    del seen[task_id]
        for task_id in task_ids:
            try:
                await self._settle(task_id, first)
            except Exception as exc:  # the others are not held up; this one is tried again soon
                self._unsettled.add(task_id)
                failed += 1
                error = str(exc) or type(exc).__name__
        if failed:
            log.warning("recovery sweep could not settle some tasks; trying again", tasks=failed, error=error)

    async def _settle(self, task_id: str, first: bool) -> None:
        """Carry out what the task's record says is in flight and has no timer here."""
        unsettled = task_id in self._unsettled
        found = await self.store.get(task_id)
        if found is not None and found[1].status == TaskStatus.submitted and await self._never_submitted(found[1]):
            log.warning("task recorded but never submitted", task_id=task_id)
            await self._transition(task_id, lambda r: self.orchestrator.never_submitted(r, NEVER_SUBMITTED),
                                   span="never submitted", error=True)
        if found is None or found[1].status != TaskStatus.submitted:
            self._submitted_seen.pop(task_id, None)
            self._old_submitted.pop(task_id, None)
        if found is None or found[1].status == TaskStatus.submitted:
            self._unsettled.discard(task_id)
            return
        record = found[1]
        effects = Effects()
        for state in record.steps.values():
            if (task_id, state.id) in self._timers or record.terminal:
                continue
            if state.status == StepStatus.running:
                if state.deadline and state.deadline <= utcnow():
                    self._spawn(self._transition(
                        task_id, lambda r, s=state: self.orchestrator.step_timed_out(r, s.id, s.attempt),
                        span="timeout", attributes={"aiorch.step_id": state.id}, error=True))
                else:
                    effects.dispatch.append(self.orchestrator.request_for(record, state.id))
            elif state.status == StepStatus.retrying:
                effects.retries.append((state.id, state.retry_at or utcnow()))
        if effects.dispatch or effects.retries or (
                (first and self._recent(record) or unsettled) and await self._events_missing(record)):
            effects.events = list(record.outbox)
            parent, _ = parent_in_trace(record.trace_id, record.traceparent, Context())
            with tracer().start_as_current_span("recover", context=parent, attributes={TASK_ID: task_id}):
                log.warning("recovering task", task_id=task_id, steps=[r.step_id for r in effects.dispatch],
                            events=len(effects.events))
                await self._apply(record, effects)
        self._unsettled.discard(task_id)

    async def _never_submitted(self, record: TaskRecord) -> bool:
        """Whether a `submitted` record will never be planned: seen here for long, and every
        submission the stream held when it was first seen old has since been taken by a
        planner (so its own was not among them). A backlog after an outage still waits;
        steady load does not hide an orphan for ever."""
        now = time.monotonic()
        seen = self._submitted_seen.setdefault(record.task_id, now)
        if now - seen < self.settings.never_submitted_after_s:
            return False
        consumers = self._submission_consumers
        try:
            watch = self._old_submitted.get(record.task_id)
            if watch is None:
                last = (await self.bus.js.stream_info(subjects.STREAM_TASKS)).state.last_seq
                watch = self._old_submitted[record.task_id] = OrphanWatch(last, time.monotonic())
            stale = consumers is None or time.monotonic() - consumers[0] > UNSETTLED_RETRY_S
            if stale or (consumers[1] is not None and consumers[0] < watch.marked_at):
                asked = time.monotonic()
                consumers = self._submission_consumers = (asked, [
                    ConsumerProgress.of(await self.bus.js.consumer_info(subjects.STREAM_TASKS, durable))
                    for durable in (subjects.CONSUMER_PLANNER_SUBMITTED, subjects.CONSUMER_PLANNER_SUBMITTED_BY)])
        except Exception as exc:  # the bus is in trouble: old tasks wait for a later sweep, asked again after a pause
            self._submission_consumers = (time.monotonic(), None)
            log.warning("could not tell whether an old submitted task is waiting", task_id=record.task_id,
                        error=str(exc) or type(exc).__name__)
            return False
        if consumers[1] is None:
            return False
        return watch.all_taken(consumers[1], consumers[0], time.monotonic(),
                               max_gap_s=3 * self.settings.sweep_interval_s)

    @staticmethod
    def _recent(record: TaskRecord) -> bool:
        return (utcnow() - record.updated_at).total_seconds() < 600

    async def _events_missing(self, record: TaskRecord) -> bool:
        """Whether the stream lacks the events of the record's last transition."""
        try:
            last = await self.bus.js.get_last_msg(subjects.STREAM_TASKS, subjects.task_events(record.task_id))
        except Exception:
            return bool(record.outbox)
        return json.loads(last.data).get("seq", 0) < record.last_event_seq


def _join_trace(record: TaskRecord) -> None:
    """The task's record keeps the trace of the span active now (planning it) unless it
    has one already: later spans for the task (results, timeouts, recovery) join it."""
    trace_id, traceparent = current_trace_id(), current_traceparent()
    if trace_id and record.trace_id in (None, trace_id):
        record.trace_id, record.traceparent = trace_id, traceparent


def _request_id(request: StepRequested) -> str:
    return f"{request.task_id}.{request.step_id}.{request.attempt}"
