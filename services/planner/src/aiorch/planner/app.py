"""Planner service: wires NATS messages to the planner backends and the orchestrator."""

import asyncio
import contextlib
import json
from datetime import datetime

from nats.aio.msg import Msg
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
from aiorch.runtime.retention import delete_files
from aiorch.runtime.storage import ObjectStore, make_store

from .config import PlannerSettings
from .logs import log
from .orchestrator import Effects, Orchestrator, Policy
from .planners import OfflinePlanner, PlannerBackend
from .planners.llm import OpenAIPlanner
from .store import TaskStore, Transition

TASKS = Counter("aiorch_planner_tasks_total", "Tasks that ended", ["status"])
PLAN_SECONDS = Histogram("aiorch_planner_plan_seconds", "Time to plan a task", ["planner"])


def make_planner(settings: PlannerSettings) -> PlannerBackend:
    offline = OfflinePlanner()
    key = settings.openai_api_key
    if settings.planner_backend == "offline" or (settings.planner_backend == "auto" and key is None):
        return offline
    if key is None:
        raise SystemExit("AIORCH_PLANNER_BACKEND=openai needs OPENAI_API_KEY")
    return OpenAIPlanner(
        key.get_secret_value(), settings.openai_base_url, settings.openai_model,
        settings.planner_timeout_s, settings.planner_retries, fallback=offline,
        max_tokens=settings.planner_max_tokens,
    )


class PlannerService:
    def __init__(self, settings: PlannerSettings) -> None:
        self.settings = settings
        self.planner = make_planner(settings)
        self.orchestrator = Orchestrator(
            Policy(step_timeout_s=settings.step_timeout_s, max_attempts=settings.max_attempts,
                   backoff_s=settings.retry_backoff_s)
        )
        self.workers: list[PullWorker] = []
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._background: set[asyncio.Task] = set()
        self._swept = False

    async def start(self) -> None:
        configure_logging("planner", self.settings.log_level, self.settings.log_json)
        await asyncio.to_thread(OfflinePlanner.warm)
        self.bus = await Bus.open(self.settings, name="aiorch-planner")
        await self.bus.provision()
        self.store = TaskStore(await self.bus.tasks_kv())
        self.objects: ObjectStore = await asyncio.to_thread(make_store, self.settings)
        consumers = [
            (subjects.STREAM_TASKS, subjects.CONSUMER_PLANNER_SUBMITTED, subjects.TASKS_SUBMITTED, self._on_submitted),
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

    async def stop(self) -> None:
        for worker in self.workers:
            await worker.stop(self.settings.drain_timeout_s)
        for handle in self._timers.values():
            handle.cancel()
        for task in self._background:
            task.cancel()
        await self.bus.close()
        await self.health.stop()

    # --- message handlers ------------------------------------------------------------------

    async def _on_submitted(self, msg: Msg) -> None:
        try:
            submitted = TaskSubmitted.model_validate_json(msg.data)
        except ValidationError as exc:
            await self._reject_malformed(msg.data, exc)
            await msg.ack()
            return
        record = TaskRecord(
            task_id=submitted.task_id, owner=submitted.owner, request=submitted.request, files=submitted.files,
            params=submitted.params, created_at=submitted.submitted_at,
        )
        # The gateway writes the record before publishing; other publishers do not.
        current = await self.store.get(submitted.task_id)
        if current is None and submitted.source == "gateway":
            log.info("submission of a deleted task dropped", task_id=submitted.task_id)
            await msg.ack()
            return
        if current is None and not await self.store.create(record):
            current = await self.store.get(submitted.task_id)
        if current is not None and current[1].status != TaskStatus.submitted:
            await msg.ack()  # already planned: a redelivery
            return
        with PLAN_SECONDS.labels(self.planner.name).time():
            plan = await self.planner.plan(submitted.task_id, submitted.request, submitted.files, submitted.params)
        seq = msg.metadata.sequence.stream if msg.metadata else None

        def accept(record: TaskRecord) -> Effects | None:
            effects = self.orchestrator.accept(record, plan)
            if effects is not None:
                record.submitted_seq = seq  # deleting the task deletes this message too
            return effects

        await self._transition(submitted.task_id, accept)
        await msg.ack()

    async def _reject_malformed(self, data: bytes, exc: ValidationError) -> None:
        first = exc.errors()[0]
        reason = f"invalid TaskSubmitted: {'.'.join(map(str, first['loc'])) or 'message'}: {first['msg']}"
        try:
            task_id = json.loads(data).get("task_id")
        except Exception:
            task_id = None
        if not isinstance(task_id, str) or not is_valid_task_id(task_id):
            task_id = f"t_rejected_{utcnow().strftime('%Y%m%d%H%M%S%f')}"
        log.warning("rejected a malformed submission", task_id=task_id, reason=reason,
                    data=data[:300].decode(errors="replace"))
        await self.store.create(TaskRecord(task_id=task_id, request=""))
        await self._transition(task_id, lambda r: self.orchestrator.reject(r, reason))

    async def _on_result(self, msg: Msg) -> None:
        try:
            result = StepResult.model_validate_json(msg.data)
        except ValidationError as exc:
            log.error("unreadable step result dropped", error=str(exc), data=msg.data[:300].decode(errors="replace"))
            await msg.term()
            return
        await self._transition(result.task_id, lambda r: self.orchestrator.step_result(r, result))
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
            await self._transition(cancel.task_id, lambda r: self.orchestrator.cancel(r, cancel.reason))
        await msg.ack()

    async def _on_plan_request(self, msg: Msg) -> None:
        try:
            request = PlanRequest.model_validate_json(msg.data)
            plan = await self.planner.plan("dry_run", request.request, request.files, request.params)
            await msg.respond(plan.model_dump_json().encode())
        except ValidationError as exc:
            await msg.respond(json.dumps({"error": str(exc.errors()[0]["msg"])}).encode())

    # --- carrying out transitions -------------------------------------------------------------

    async def _transition(self, task_id: str, transition: Transition) -> None:
        outcome = await self.store.update(task_id, transition)
        if outcome is not None:
            await self._apply(*outcome)

    async def _apply(self, record: TaskRecord, effects: Effects) -> None:
        publications = [
            (subjects.task_events(event.task_id), event, f"{event.task_id}.{event.seq}") for event in effects.events
        ]
        publications += [
            (subjects.agent_requests(request.agent), request, _request_id(request)) for request in effects.dispatch
        ]
        await self.bus.publish_many(publications)
        for request in effects.dispatch:
            self._arm_timeout(request.task_id, request.step_id, request.attempt, request.deadline)
        for step_id, when in effects.retries:
            self._schedule_retry(record.task_id, step_id, when)
        if record.terminal:
            TASKS.labels(record.status.value).inc()
            for key in [key for key in self._timers if key[0] == record.task_id]:
                self._timers.pop(key).cancel()

    def _arm_timeout(self, task_id: str, step_id: str, attempt: int, deadline: datetime) -> None:
        def fire() -> None:
            self._timers.pop((task_id, step_id), None)
            self._spawn(self._transition(task_id, lambda r: self.orchestrator.step_timed_out(r, step_id, attempt)))

        self._set_timer(task_id, step_id, deadline, fire)

    def _schedule_retry(self, task_id: str, step_id: str, when: datetime) -> None:
        def fire() -> None:
            self._timers.pop((task_id, step_id), None)
            self._spawn(self._transition(task_id, lambda r: self.orchestrator.retry_due(r, step_id)))

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
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("recovery sweep failed")
            await asyncio.sleep(self.settings.sweep_interval_s)

    async def sweep(self) -> None:
        """Finish what a dead planner left: re-publish its last events, re-dispatch running
        steps (JetStream drops the duplicates), re-arm timers and retries."""
        first = not self._swept
        self._swept = True
        for task_id in await self.store.keys():
            found = await self.store.get(task_id)
            if found is None or found[1].status == TaskStatus.submitted:
                continue
            record = found[1]
            effects = Effects()
            for state in record.steps.values():
                if (task_id, state.id) in self._timers or record.terminal:
                    continue
                if state.status == StepStatus.running:
                    if state.deadline and state.deadline <= utcnow():
                        self._spawn(self._transition(
                            task_id, lambda r, s=state: self.orchestrator.step_timed_out(r, s.id, s.attempt)))
                    else:
                        effects.dispatch.append(self.orchestrator.request_for(record, state.id))
                elif state.status == StepStatus.retrying:
                    effects.retries.append((state.id, state.retry_at or utcnow()))
            if effects.dispatch or effects.retries or (first and self._recent(record) and await self._events_missing(record)):
                log.info("recovering task", task_id=task_id, steps=[r.step_id for r in effects.dispatch])
                effects.events = list(record.outbox)
                await self._apply(record, effects)

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


def _request_id(request: StepRequested) -> str:
    return f"{request.task_id}.{request.step_id}.{request.attempt}"
