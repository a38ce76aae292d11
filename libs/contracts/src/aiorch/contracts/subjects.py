"""Every NATS subject, stream, consumer and bucket name used by aiorch.

No other module spells a subject: services import these.
"""

import re

# Streams
STREAM_TASKS = "AIORCH_TASKS"
STREAM_WORK = "AIORCH_WORK"
STREAM_RESULTS = "AIORCH_RESULTS"

# Key-value bucket holding the TaskRecord of every task, keyed by task id.
KV_TASKS = "aiorch_tasks"

TASKS_PREFIX = "aiorch.tasks"
TASKS_SUBMITTED = f"{TASKS_PREFIX}.submitted"
TASKS_ALL = f"{TASKS_PREFIX}.>"
TASK_EVENTS_ALL = f"{TASKS_PREFIX}.*.events"
TASK_CANCEL_ALL = f"{TASKS_PREFIX}.*.cancel"
# Submissions by a bus principal (another system with a NATS user of its own): its NATS
# permissions allow only `aiorch.tasks.submitted.<its name>`, and the task belongs to it.
TASKS_SUBMITTED_BY_ALL = f"{TASKS_SUBMITTED}.*"

AGENT_REQUESTS_ALL = "aiorch.agents.*.requests"
STEP_RESULTS = "aiorch.agents.results"
STEP_PROGRESS = "aiorch.agents.progress"

# Request/reply (core NATS): dry-run planning for the gateway's POST /v1/plan.
PLANNER_PLAN = "aiorch.planner.plan"

# Durable consumer names.
CONSUMER_PLANNER_SUBMITTED = "planner-submitted"
CONSUMER_PLANNER_SUBMITTED_BY = "planner-submitted-by"
CONSUMER_PLANNER_CANCEL = "planner-cancel"
CONSUMER_PLANNER_RESULTS = "planner-results"
CONSUMER_PLANNER_PROGRESS = "planner-progress"

TASK_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_TASK_ID_RE = re.compile(TASK_ID_PATTERN)
AGENT_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
BUS_PRINCIPAL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_BUS_PRINCIPAL_RE = re.compile(BUS_PRINCIPAL_PATTERN)
RESERVED_BUS_PRINCIPALS = frozenset({"events", "cancel"})
"""`aiorch.tasks.submitted.events|cancel` would also match the events and cancel wildcards."""


def is_valid_task_id(task_id: str) -> bool:
    return bool(_TASK_ID_RE.match(task_id)) and task_id not in {"submitted"}


def is_valid_bus_principal(name: str) -> bool:
    """A name usable as a subject token (no `.`, `*`, `>`, spaces) and as an API principal."""
    return bool(_BUS_PRINCIPAL_RE.match(name)) and name not in RESERVED_BUS_PRINCIPALS


def tasks_submitted_by(principal: str) -> str:
    return f"{TASKS_SUBMITTED}.{principal}"


def submitter_from_subject(subject: str) -> str | None:
    """`aiorch.tasks.submitted.<principal>` -> `<principal>`; None for `aiorch.tasks.submitted`."""
    prefix = f"{TASKS_SUBMITTED}."
    return subject[len(prefix):] if subject.startswith(prefix) else None


def task_events(task_id: str) -> str:
    return f"{TASKS_PREFIX}.{task_id}.events"


def task_cancel(task_id: str) -> str:
    return f"{TASKS_PREFIX}.{task_id}.cancel"


def task_id_from_subject(subject: str) -> str:
    """`aiorch.tasks.<id>.events|cancel` -> `<id>`."""
    return subject.split(".")[2]


def agent_requests(agent: str) -> str:
    return f"aiorch.agents.{agent}.requests"


def agent_consumer(agent: str) -> str:
    return f"agent-{agent}"
