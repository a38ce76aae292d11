"""The plan as a DAG over a TaskRecord: pure state transitions, no NATS.

Each method changes the record it is given and returns the `Effects` to carry out
(events to publish, steps to dispatch, timers to arm), or None when the input is
stale (an old attempt, a finished task). The record's outbox holds the events, so a
planner that dies before publishing them re-publishes them on restart.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiorch.contracts import (
    EventType,
    FileInput,
    Plan,
    StepError,
    StepOutputInput,
    StepProgress,
    StepRequested,
    StepResult,
    StepState,
    StepStatus,
    TaskEvent,
    TaskRecord,
    TaskStatus,
    UpstreamOutput,
    utcnow,
)

ACTIVE = {StepStatus.running, StepStatus.retrying}
FINISHED = {StepStatus.completed, StepStatus.failed, StepStatus.skipped, StepStatus.cancelled}


@dataclass
class Effects:
    events: list[TaskEvent] = field(default_factory=list)
    dispatch: list[StepRequested] = field(default_factory=list)
    retries: list[tuple[str, datetime]] = field(default_factory=list)
    """(step_id, when) of steps to dispatch again later."""


@dataclass(frozen=True)
class Policy:
    step_timeout_s: float = 300.0
    max_attempts: int = 3
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0


class Orchestrator:
    def __init__(self, policy: Policy = Policy()) -> None:
        self.policy = policy

    # --- inputs ------------------------------------------------------------------------

    def accept(self, record: TaskRecord, plan: Plan) -> Effects | None:
        """A planned task starts: `submitted`, `planned`, then its first steps."""
        if record.status != TaskStatus.submitted:
            return None
        effects = Effects()
        record.plan = plan
        record.steps = {step.id: StepState(id=step.id, agent=step.agent) for step in plan.steps}
        self._emit(record, effects, EventType.submitted, message=record.request[:200])
        self._emit(record, effects, EventType.planned, plan=plan, message=plan.explanation)
        if not plan.steps:
            reason = plan.explanation or "no agent can serve this request"
            self._finish(record, effects, TaskStatus.failed, reason=reason, answer=reason)
            return effects
        record.status = TaskStatus.running
        self._advance(record, effects)
        return effects

    def never_submitted(self, record: TaskRecord, reason: str) -> Effects | None:
        """A task recorded whose submission never came (its gateway stopped, or lost the bus,
        between writing the record and publishing it): `submitted`, then `failed`."""
        if record.status != TaskStatus.submitted:
            return None
        effects = Effects()
        self._emit(record, effects, EventType.submitted, message=record.request[:200])
        self._finish(record, effects, TaskStatus.failed, reason=reason, answer=reason)
        return effects

    def reject(self, record: TaskRecord, reason: str) -> Effects | None:
        if record.terminal:
            return None
        effects = Effects()
        record.status = TaskStatus.rejected
        record.reason = reason
        self._emit(record, effects, EventType.rejected, message=reason)
        return effects

    def step_result(self, record: TaskRecord, result: StepResult) -> Effects | None:
        state = _running(record, result.step_id, result.attempt)
        if state is None:
            return None
        effects = Effects()
        if result.status == "completed":
            state.status = StepStatus.completed
            state.finished_at = utcnow()
            state.result = result
            state.error = None
            self._emit(record, effects, EventType.step_completed, state=state, message=_first_line(result.summary))
        else:
            self._step_failed(record, effects, state, result.error, result)
        self._advance(record, effects)
        return effects

    def step_progress(self, record: TaskRecord, progress: StepProgress) -> Effects | None:
        state = _running(record, progress.step_id, progress.attempt)
        if state is None:
            return None
        effects = Effects()
        self._emit(record, effects, EventType.progress, state=state, message=progress.message, fraction=progress.fraction)
        return effects

    def step_timed_out(self, record: TaskRecord, step_id: str, attempt: int) -> Effects | None:
        state = _running(record, step_id, attempt)
        if state is None:
            return None
        effects = Effects()
        error = StepError(
            code="timeout", message=f"no result within {self.policy.step_timeout_s:g}s", retryable=True
        )
        self._step_failed(record, effects, state, error, None)
        self._advance(record, effects)
        return effects

    def retry_due(self, record: TaskRecord, step_id: str) -> Effects | None:
        state = record.steps.get(step_id)
        if record.terminal or state is None or state.status != StepStatus.retrying:
            return None
        effects = Effects()
        self._start(record, effects, state)
        return effects

    def cancel(self, record: TaskRecord, reason: str) -> Effects | None:
        if record.terminal:
            return None
        effects = Effects()
        for state in record.steps.values():
            if state.status not in FINISHED:
                state.status = StepStatus.cancelled
                state.finished_at = utcnow()
        self._finish(record, effects, TaskStatus.cancelled, reason=reason, answer=self._answer(record))
        return effects

    # --- internals -----------------------------------------------------------------------

    def _step_failed(
        self, record: TaskRecord, effects: Effects, state: StepState, error: StepError, result: StepResult | None
    ) -> None:
        state.error = error
        if error.retryable and state.attempt < self.policy.max_attempts:
            delay = min(self.policy.backoff_s * 2 ** (state.attempt - 1), self.policy.backoff_max_s)
            state.status = StepStatus.retrying
            state.retry_at = utcnow() + timedelta(seconds=delay)
            state.deadline = None
            effects.retries.append((state.id, state.retry_at))
            self._emit(
                record, effects, EventType.progress, state=state,
                message=f"attempt {state.attempt} failed ({error.code}: {error.message}); retrying in {delay:g}s",
            )
            return
        state.status = StepStatus.failed
        state.finished_at = utcnow()
        state.result = result
        self._emit(record, effects, EventType.step_failed, state=state, error=error, message=error.message)

    def _advance(self, record: TaskRecord, effects: Effects) -> None:
        """Skip what can no longer run, start what is ready, finish when nothing is left."""
        plan = record.plan
        changed = True
        while changed:
            changed = False
            for step in plan.steps:
                state = record.steps[step.id]
                if state.status != StepStatus.pending:
                    continue
                deps = [record.steps[dep] for dep in step.depends_on]
                blocked = [dep for dep in deps if dep.status in (StepStatus.failed, StepStatus.skipped, StepStatus.cancelled)]
                if blocked:
                    state.status = StepStatus.skipped
                    state.finished_at = utcnow()
                    state.error = StepError(code="skipped", message=f"skipped: {blocked[0].id} did not complete")
                    changed = True
                elif all(dep.status == StepStatus.completed for dep in deps):
                    self._start(record, effects, state)
        states = record.steps.values()
        if all(state.status in FINISHED for state in states):
            failed = [state for state in states if state.status != StepStatus.completed]
            if failed:
                first = next((s for s in failed if s.status == StepStatus.failed), failed[0])
                reason = f"step {first.id} ({first.agent}) failed: {first.error.message if first.error else 'unknown'}"
                self._finish(record, effects, TaskStatus.failed, reason=reason, answer=self._answer(record))
            else:
                self._finish(record, effects, TaskStatus.completed, answer=self._answer(record))

    def _start(self, record: TaskRecord, effects: Effects, state: StepState) -> None:
        now = utcnow()
        state.status = StepStatus.running
        state.attempt += 1
        state.started_at = state.started_at or now
        state.retry_at = None
        state.deadline = now + timedelta(seconds=self.policy.step_timeout_s)
        effects.dispatch.append(self.request_for(record, state.id))
        if state.attempt == 1:
            self._emit(record, effects, EventType.step_started, state=state, message=effects.dispatch[-1].instruction[:200])
        else:
            self._emit(record, effects, EventType.progress, state=state, message=f"attempt {state.attempt} started")

    def request_for(self, record: TaskRecord, step_id: str) -> StepRequested:
        """The request for a step's current attempt, with its files and upstream outputs."""
        step = next(step for step in record.plan.steps if step.id == step_id)
        state = record.steps[step_id]
        files = [source.file for source in step.inputs if isinstance(source, FileInput)]
        upstream = []
        for source in step.inputs:
            if isinstance(source, StepOutputInput):
                result = record.steps[source.step].result
                if result.output is not None:
                    value = getattr(result.output, source.output, None)
                    upstream.append(UpstreamOutput(step=source.step, output=source.output, value=value))
                else:
                    upstream.append(UpstreamOutput(step=source.step, output=source.output, ref=result.output_ref))
        return StepRequested(
            task_id=record.task_id, step_id=step.id, attempt=state.attempt, agent=step.agent,
            instruction=step.instruction, request=record.request, files=files, upstream=upstream,
            params=step.params, deadline=state.deadline, owner=record.owner,
        )

    def _finish(
        self, record: TaskRecord, effects: Effects, status: TaskStatus, reason: str | None = None, answer: str | None = None
    ) -> None:
        record.status = status
        record.reason = reason
        record.answer = answer
        event = {
            TaskStatus.completed: EventType.completed,
            TaskStatus.failed: EventType.failed,
            TaskStatus.cancelled: EventType.cancelled,
        }[status]
        self._emit(record, effects, event, message=reason, answer=answer)

    def _answer(self, record: TaskRecord) -> str:
        """The final markdown answer: each step's summary, failures with their reasons."""
        parts = []
        single = len(record.plan.steps) == 1
        for step in record.plan.steps:
            state = record.steps[step.id]
            heading = "" if single else f"### {step.id} · {step.agent}\n\n"
            if state.status == StepStatus.completed and state.result:
                parts.append(heading + state.result.summary)
            elif state.error:
                parts.append(heading + f"**{state.status.value}:** {state.error.message}")
            else:
                parts.append(heading + f"_{state.status.value}_")
        return "\n\n".join(parts)

    @staticmethod
    def _emit(record: TaskRecord, effects: Effects, type_: EventType, state: StepState | None = None, **fields) -> None:
        record.last_event_seq += 1
        if state is not None:
            fields.update(step_id=state.id, agent=state.agent, attempt=state.attempt)
        event = TaskEvent(task_id=record.task_id, seq=record.last_event_seq, type=type_, **fields)
        effects.events.append(event)


def _running(record: TaskRecord, step_id: str, attempt: int) -> StepState | None:
    """The step if this attempt of it is the one running; anything else is stale input."""
    state = record.steps.get(step_id)
    if record.terminal or state is None or state.status != StepStatus.running or state.attempt != attempt:
        return None
    return state


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""
