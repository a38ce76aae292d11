"""Reading task records from the KV bucket, for every service that scans them (the gateway's
listing, the retention sweep, the planner's recovery)."""

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError

from aiorch.contracts import TaskRecord, subjects

# How JetStream stores the tasks bucket: a stream, one subject per key.
TASKS_STREAM = f"KV_{subjects.KV_TASKS}"
TASKS_KEY_PREFIX = f"$KV.{subjects.KV_TASKS}."


async def task_ids(js: JetStreamContext) -> list[str]:
    """Every task id in the bucket (deleted ones included; `read_record` skips them).

    One stream-info request is an atomic snapshot of the bucket's subjects; nats-py's
    `kv.keys()` walks a watcher and can miss a key rewritten while it walks, so a task
    submitted a moment ago vanished from listings. (The server answers up to 100,000
    subjects per request; retention keeps the bucket far below that.)"""
    info = await js.stream_info(TASKS_STREAM, subjects_filter=f"{TASKS_KEY_PREFIX}>")
    return [subject.removeprefix(TASKS_KEY_PREFIX) for subject in (info.state.subjects or {})]


async def read_record(kv, task_id: str) -> TaskRecord | None:
    """The task's record, or None when it is gone, deleted or not a record."""
    try:
        entry = await kv.get(task_id)
    except KeyNotFoundError:
        return None
    if not entry or not entry.value:
        return None
    try:
        return TaskRecord.model_validate_json(entry.value)
    except ValueError:
        return None


async def erase_record(js: JetStreamContext, task_id: str) -> None:
    """Remove every revision of the task's record, leaving no delete marker behind: a deleted
    task drops out of `task_ids` instead of being listed (and read) for ever."""
    await js.purge_stream(TASKS_STREAM, subject=TASKS_KEY_PREFIX + task_id)
