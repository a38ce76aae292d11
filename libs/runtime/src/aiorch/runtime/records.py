"""Reading task records from the KV bucket, for every service that scans them (the gateway's
listing, the retention sweep, the planner's recovery)."""

from nats.js.errors import KeyNotFoundError, NoKeysError

from aiorch.contracts import TaskRecord


async def task_ids(kv) -> list[str]:
    """Every task id in the bucket; none when it is empty (nats-py raises for that)."""
    try:
        return await kv.keys()
    except NoKeysError:
        return []


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
