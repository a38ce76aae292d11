"""Starting and deleting tasks: the KV record and the bus messages that go with it.

Both take several steps that must stay in order (record before message, so the
orchestrator finds it; cancel before delete, so steps stop writing), which is why they
live here and not in the routes."""

import asyncio
import contextlib

from fastapi import HTTPException, status
from prometheus_client import Counter

from aiorch.contracts import CancelRequested, TaskRecord, TaskSubmitted, subjects
from aiorch.runtime.broker import Bus
from aiorch.runtime.logs import get_logger
from aiorch.runtime.records import erase_record
from aiorch.runtime.retention import delete_task as delete_everything
from aiorch.runtime.storage import ObjectStore
from aiorch.runtime.tracing import current_trace_id, current_traceparent

from .principals import Principal
from .submission import Submission, create_record

SUBMITTED = Counter("aiorch_gateway_tasks_submitted_total", "Tasks accepted by the gateway")
DELETED = Counter("aiorch_gateway_tasks_deleted_total", "Tasks deleted through the API")
log = get_logger(__name__)


async def start_task(bus: Bus, task_id: str, principal: Principal, submission: Submission) -> TaskRecord:
    """Create the task's record, then publish it; without a bus the record is removed again
    and the caller gets 503 (nothing half-submitted is left). The task's trace is the
    request's: its id is in the record, its traceparent on the message."""
    record = TaskRecord(task_id=task_id, owner=principal.name, request=submission.request, files=submission.files,
                        params=submission.params, trace_id=current_trace_id(), traceparent=current_traceparent())
    kv = await bus.tasks_kv()
    await create_record(kv, task_id, record.model_dump_json().encode())
    message = TaskSubmitted(
        task_id=task_id, request=submission.request, files=submission.files,
        params=submission.params, submitted_at=record.created_at, source="gateway", owner=principal.name,
    )
    try:
        await bus.publish(subjects.TASKS_SUBMITTED, message, msg_id=task_id)
    except Exception as exc:
        with contextlib.suppress(Exception):
            await erase_record(bus.js, task_id)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"task bus unavailable: {exc}") from None
    SUBMITTED.inc()
    return record


async def delete_task(
    bus: Bus, store: ObjectStore, record: TaskRecord, principal: Principal, background: set[asyncio.Task]
) -> None:
    """Delete a task everywhere (cancelling it first if it runs), log it for audit, and
    schedule a second pass in `background` (the app's, cancelled at shutdown)."""
    task_id = record.task_id
    if not record.terminal:
        with contextlib.suppress(Exception):
            await bus.publish(subjects.task_cancel(task_id), CancelRequested(task_id=task_id, reason="deleted"))
    objects = await delete_everything(bus, store, task_id)
    DELETED.inc()
    log.info("task deleted", audit="delete", task_id=task_id, owner=record.owner, by=principal.name,
             was=record.status.value, objects=objects)
    # Events a planner was publishing at that moment, and files a finishing step wrote,
    # are caught by a second pass a little later.
    later = asyncio.create_task(_delete_again(bus, store, task_id))
    background.add(later)
    later.add_done_callback(background.discard)


async def _delete_again(bus: Bus, store: ObjectStore, task_id: str, delay_s: float = 3.0) -> None:
    await asyncio.sleep(delay_s)
    try:
        objects = await delete_everything(bus, store, task_id)
    except Exception as exc:
        log.warning("second deletion pass failed", task_id=task_id, error=str(exc))
        return
    if objects:
        log.info("task files removed after deletion", audit="delete", task_id=task_id, objects=objects)
