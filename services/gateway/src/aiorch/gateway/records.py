"""Reading task records from the KV bucket, always through the caller's principal.

Every read answers 404 for another principal's task exactly as for a missing one, so the
routes, the body parser (JSON file refs) and the event relay share these readers."""

from fastapi import HTTPException, status
from nats.js.errors import KeyNotFoundError

from aiorch.contracts import FileRef, TaskRecord
from aiorch.contracts.subjects import is_valid_task_id
from aiorch.runtime.broker import Bus
from aiorch.runtime.records import read_record, task_ids

from .models import TaskPage, TaskSummary
from .principals import Principal


async def load_record(bus: Bus, task_id: str, principal: Principal) -> TaskRecord:
    """The task's record, if `principal` may see it; 404 otherwise (whether it exists or not)."""
    missing = HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_id!r}")
    if not is_valid_task_id(task_id):
        raise missing
    kv = await bus.tasks_kv()
    try:
        entry = await kv.get(task_id)
    except KeyNotFoundError:
        entry = None
    if entry is None or entry.value is None:
        raise missing
    record = TaskRecord.model_validate_json(entry.value)
    if not principal.sees(record.owner):
        raise missing
    return record


async def task_page(bus: Bus, principal: Principal, limit: int, before: str | None) -> TaskPage:
    """Up to `limit` of the tasks `principal` sees, newest first (task ids sort by time),
    older than `before`."""
    kv = await bus.tasks_kv()
    keys = sorted(await task_ids(bus.js), reverse=True)
    if before:
        keys = [key for key in keys if key < before]
    summaries: list[TaskSummary] = []
    more = False
    for key in keys:
        record = await read_record(kv, key)
        if record is None or not principal.sees(record.owner):
            continue
        if len(summaries) == limit:
            more = True
            break
        summaries.append(
            TaskSummary(task_id=record.task_id, status=record.status.value, request=record.request[:200],
                        owner=record.owner, created_at=record.created_at, updated_at=record.updated_at)
        )
    return TaskPage(tasks=summaries, next_before=summaries[-1].task_id if more else None)


def find_artifact(record: TaskRecord, name: str) -> FileRef:
    """The artifact (or step output) called `name`, or `<step_id>/<name>`: 404 when none
    matches, 409 when several steps made one of that name."""
    step_filter, _, wanted = name.rpartition("/")
    matches = [
        ref
        for state in record.steps.values()
        if state.result and (not step_filter or state.id == step_filter)
        for ref in [*state.result.artifacts, *([state.result.output_ref] if state.result.output_ref else [])]
        if ref.name == wanted
    ]
    if not matches:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"task {record.task_id} has no artifact {name!r}")
    if len(matches) > 1:
        raise HTTPException(status.HTTP_409_CONFLICT, f"several steps made {wanted!r}; ask for <step_id>/{wanted}")
    return matches[0]
