"""Messages exchanged over NATS, and the task record kept in the KV bucket."""

import secrets
import time
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .base import Message, Model, utcnow
from .files import FileRef
from .outputs import AgentOutput
from .subjects import AGENT_NAME_PATTERN, TASK_ID_PATTERN

TaskId = Annotated[str, Field(pattern=TASK_ID_PATTERN, description="Letters, digits, '_' or '-'.")]
StepId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
AgentName = Annotated[str, Field(pattern=AGENT_NAME_PATTERN)]
ParamValue = str | int | float | bool | list[str] | None
"""A step or task parameter: a scalar, or a list of strings (e.g. the sentiment agent's `texts`)."""


def new_task_id() -> str:
    """`t_` + milliseconds since the epoch + randomness: unique and sortable by age."""
    return f"t_{int(time.time() * 1000):012x}{secrets.token_hex(6)}"


class TaskSubmitted(Message):
    """Published on `aiorch.tasks.submitted` by the gateway or any other system."""

    task_id: TaskId
    request: str = Field(max_length=100_000)
    files: list[FileRef] = Field(default_factory=list, max_length=50)
    params: dict[str, ParamValue] = Field(default_factory=dict)
    submitted_at: datetime = Field(default_factory=utcnow)
    source: str = "api"
    owner: str | None = Field(
        default=None, max_length=128,
        description="The principal the task belongs to (the gateway's API key name, or the publishing "
        "system's bus user); unset: only admins see it.",
    )


class CancelRequested(Message):
    """Published on `aiorch.tasks.<task_id>.cancel`."""

    task_id: TaskId
    reason: str = "cancelled by the user"
    requested_at: datetime = Field(default_factory=utcnow)


class FileInput(Model):
    kind: Literal["file"] = "file"
    file: FileRef


class StepOutputInput(Model):
    """An earlier step's output, e.g. `{"step": "s1", "output": "texts"}`."""

    kind: Literal["step"] = "step"
    step: StepId
    output: str


StepInput = Annotated[FileInput | StepOutputInput, Field(discriminator="kind")]


class PlanStep(Model):
    id: StepId
    agent: AgentName
    instruction: str
    inputs: list[StepInput] = Field(default_factory=list)
    depends_on: list[StepId] = Field(default_factory=list)
    params: dict[str, ParamValue] = Field(default_factory=dict)


class Plan(Message):
    task_id: TaskId
    planner: str = Field(description="Which backend made the plan: offline, openai.")
    steps: list[PlanStep] = Field(default_factory=list)
    explanation: str | None = Field(default=None, description="Why the plan looks as it does; set when empty.")
    fallback_reason: str | None = Field(default=None, description="Why the LLM planner's plan was not used.")

    @model_validator(mode="after")
    def _valid_dag(self) -> "Plan":
        ids = [step.id for step in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError("step ids must be unique")
        known = set(ids)
        for step in self.steps:
            for dep in step.depends_on:
                if dep not in known or dep == step.id:
                    raise ValueError(f"step {step.id} depends on unknown step {dep!r}")
            for source in step.inputs:
                if isinstance(source, StepOutputInput) and source.step not in step.depends_on:
                    raise ValueError(f"step {step.id} reads {source.step} without depending on it")
        if _has_cycle({step.id: step.depends_on for step in self.steps}):
            raise ValueError("plan steps form a cycle")
        return self


def _has_cycle(graph: dict[str, list[str]]) -> bool:
    state: dict[str, int] = {}

    def visit(node: str) -> bool:
        if state.get(node) == 1:
            return True
        if state.get(node) == 2:
            return False
        state[node] = 1
        if any(visit(dep) for dep in graph.get(node, [])):
            return True
        state[node] = 2
        return False

    return any(visit(node) for node in graph)


class PlanRequest(Message):
    """Dry-run planning request (gateway -> planner, request/reply)."""

    request: str = Field(max_length=100_000)
    files: list[FileRef] = Field(default_factory=list)
    params: dict[str, ParamValue] = Field(default_factory=dict)
    owner: str | None = Field(default=None, max_length=128, description="The principal asking.")


class UpstreamOutput(Model):
    """An earlier step's output handed to a later step: inline, or by reference when large."""

    step: StepId
    output: str
    value: Any = None
    ref: FileRef | None = Field(default=None, description="JSON file holding the full agent output.")


class StepRequested(Message):
    """Published on `aiorch.agents.<agent>.requests`."""

    task_id: TaskId
    step_id: StepId
    attempt: int = Field(ge=1)
    agent: AgentName
    instruction: str
    request: str = Field(default="", description="The whole user request, for context.")
    files: list[FileRef] = Field(default_factory=list)
    upstream: list[UpstreamOutput] = Field(default_factory=list)
    params: dict[str, ParamValue] = Field(default_factory=dict)
    deadline: datetime | None = None
    owner: str | None = Field(default=None, max_length=128, description="The principal the task belongs to.")


class StepProgress(Message):
    """Published on `aiorch.agents.progress` while an agent works."""

    task_id: TaskId
    step_id: StepId
    attempt: int = Field(ge=1)
    message: str = ""
    fraction: float | None = Field(default=None, ge=0, le=1)
    at: datetime = Field(default_factory=utcnow)


class StepError(Model):
    code: str
    message: str
    retryable: bool = False


class StepStatus(StrEnum):
    pending = "pending"
    running = "running"
    retrying = "retrying"
    completed = "completed"
    failed = "failed"
    skipped = "skipped"
    cancelled = "cancelled"


class StepResult(Message):
    """Published on `aiorch.agents.results` when a step ends."""

    task_id: TaskId
    step_id: StepId
    attempt: int = Field(ge=1)
    agent: AgentName
    status: Literal["completed", "failed"]
    output: AgentOutput | None = None
    output_ref: FileRef | None = Field(default=None, description="Set instead of `output` when it is large.")
    summary: str = Field(default="", description="Markdown summary for people.")
    artifacts: list[FileRef] = Field(default_factory=list)
    error: StepError | None = None
    duration_ms: float = 0.0

    @model_validator(mode="after")
    def _error_iff_failed(self) -> "StepResult":
        if self.status == "failed" and self.error is None:
            raise ValueError("a failed result needs an error")
        return self


class EventType(StrEnum):
    submitted = "submitted"
    planned = "planned"
    step_started = "step_started"
    progress = "progress"
    step_completed = "step_completed"
    step_failed = "step_failed"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    rejected = "rejected"


TERMINAL_EVENTS = frozenset({EventType.completed, EventType.failed, EventType.cancelled, EventType.rejected})


class TaskEvent(Message):
    """Published on `aiorch.tasks.<task_id>.events`; `seq` counts from 1 per task."""

    task_id: TaskId
    seq: int = Field(ge=1)
    type: EventType
    at: datetime = Field(default_factory=utcnow)
    step_id: StepId | None = None
    agent: str | None = None
    attempt: int | None = None
    message: str | None = None
    fraction: float | None = None
    plan: Plan | None = None
    error: StepError | None = None
    answer: str | None = Field(default=None, description="Final markdown answer, on completed/failed.")

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_EVENTS


class TaskStatus(StrEnum):
    submitted = "submitted"
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    rejected = "rejected"


TERMINAL_TASK_STATUSES = frozenset(
    {TaskStatus.completed, TaskStatus.failed, TaskStatus.cancelled, TaskStatus.rejected}
)


class StepState(Model):
    id: StepId
    agent: str
    status: StepStatus = StepStatus.pending
    attempt: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    deadline: datetime | None = None
    retry_at: datetime | None = None
    error: StepError | None = None
    result: StepResult | None = None


class TaskRecord(Message):
    """The source of truth for a task, stored in the `aiorch_tasks` KV bucket."""

    task_id: TaskId
    owner: str | None = Field(
        default=None, max_length=128, description="The principal the task belongs to; unset: only admins see it."
    )
    status: TaskStatus = TaskStatus.submitted
    request: str = ""
    files: list[FileRef] = Field(default_factory=list)
    params: dict[str, ParamValue] = Field(default_factory=dict)
    plan: Plan | None = None
    steps: dict[str, StepState] = Field(default_factory=dict)
    answer: str | None = None
    reason: str | None = Field(default=None, description="Why the task failed, was rejected or cancelled.")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_event_seq: int = 0
    submitted_seq: int | None = Field(
        default=None, description="Stream sequence of the TaskSubmitted message, deleted with the task."
    )
    trace_id: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{32}$",
        description="The OpenTelemetry trace of the task (32 hex digits): the gateway's request, the plan, "
        "each step's dispatch, run and result.",
    )
    traceparent: str | None = Field(
        default=None, max_length=512,
        description="W3C traceparent of the planner's span for the task: what it does later for the task "
        "(timeouts, retries, recovery after a restart) joins the task's trace.",
    )
    outbox: list[TaskEvent] = Field(
        default_factory=list,
        description="Events of the latest transition; re-published after a crash (deduplicated by id).",
    )

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_TASK_STATUSES
