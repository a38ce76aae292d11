"""Deleting a task everywhere (record, events, uploads, artifacts) and expiring old ones.

The expiry sweep keeps no state of its own: it reads the task records in the KV bucket,
the task stream's subjects and the object store's listing each time, so it survives
restarts, works the same on the local and S3 backends, and several replicas may run it
at once (deleting twice is harmless). It is the only expiry: neither the bucket nor the
task stream has an age limit (see `BusLimits.task_history_s`), so a principal's retention
may be as long as wanted, and the record, its events and its files go together.
"""

import asyncio
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from nats.js.errors import KeyNotFoundError, NotFoundError

from aiorch.contracts import TaskRecord, subjects, utcnow
from aiorch.contracts.subjects import is_valid_task_id

from .broker import Bus
from .logs import get_logger
from .records import erase_record, read_record, task_ids
from .storage import ObjectStore

log = get_logger(__name__)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_TASK_TIME = re.compile(r"^t_([0-9a-f]{12})")
ORPHAN_GRACE_S = 60.0
"""Files without a record are left alone this long: the gateway stores uploads just before
it writes the record."""


def parse_duration(text: str | float | int) -> float:
    """Seconds from `90`, `90s`, `15m`, `12h`, `7d` or `2w`."""
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        match = _DURATION.match(text)
        if not match:
            raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 15m, 12h, 7d)")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


def task_files(task_id: str) -> list[str]:
    """The object-store folders that hold a task's files."""
    return [f"uploads/{task_id}/", f"artifacts/{task_id}/"]


def delete_files(store: ObjectStore, task_id: str) -> int:
    return sum(store.delete_prefix(prefix) for prefix in task_files(task_id))


async def delete_task(bus: Bus, store: ObjectStore, task_id: str) -> int:
    """Remove the record, the submission message, the events and cancel requests, and every
    file of a task; the number of objects removed."""
    kv = await bus.tasks_kv()
    try:
        entry = await kv.get(task_id)
        record = TaskRecord.model_validate_json(entry.value) if entry and entry.value else None
    except (KeyNotFoundError, NotFoundError, ValueError):
        record = None
    if record is not None and record.submitted_seq:
        try:
            await bus.js.delete_msg(subjects.STREAM_TASKS, record.submitted_seq)
        except NotFoundError:
            pass
    await erase_record(bus.js, task_id)
    await purge_messages(bus, task_id)
    return await asyncio.to_thread(delete_files, store, task_id)


async def purge_messages(bus: Bus, task_id: str) -> None:
    """Remove a task's events and cancel requests from the task stream."""
    for subject in (subjects.task_events(task_id), subjects.task_cancel(task_id)):
        try:
            await bus.js.purge_stream(subjects.STREAM_TASKS, subject=subject)
        except NotFoundError:
            pass


async def stream_task_ids(bus: Bus, timeout_s: float = 10.0) -> set[str]:
    """The tasks with events or cancel requests in the task stream (every page of the
    stream's subject listing)."""
    found: set[str] = set()
    offset = 0
    while True:
        request = {"subjects_filter": f"{subjects.TASKS_PREFIX}.*.*", "offset": offset}
        reply = await bus.nc.request(f"$JS.API.STREAM.INFO.{subjects.STREAM_TASKS}", json.dumps(request).encode(),
                                     timeout=timeout_s)
        data = json.loads(reply.data)
        if "error" in data:
            raise RuntimeError(f"cannot list the task stream's subjects: {data['error'].get('description')}")
        page = (data.get("state") or {}).get("subjects") or {}
        for subject in page:
            task_id = subjects.task_id_from_subject(subject)
            if is_valid_task_id(task_id) and subject in (subjects.task_events(task_id), subjects.task_cancel(task_id)):
                found.add(task_id)
        offset += len(page)
        if not page or offset >= data.get("total", 0):
            return found


def task_created_at(task_id: str) -> datetime | None:
    """Task ids made by `new_task_id` start with the creation time in milliseconds."""
    match = _TASK_TIME.match(task_id)
    if not match:
        return None
    return datetime.fromtimestamp(int(match.group(1), 16) / 1000, tz=utcnow().tzinfo)


async def sweep(
    bus: Bus, store: ObjectStore, retention_s: Callable[[str | None], float], now: datetime | None = None
) -> list[str]:
    """Delete tasks last changed longer ago than their owner's retention, and the files and
    stream messages whose task has no record any more; the ids of the tasks removed."""
    now = now or utcnow()
    kv = await bus.tasks_kv()
    # The stream before the records: a task's record is written before its first event, so
    # a task listed here without a record was deleted, not yet to be created.
    try:
        in_stream = await stream_task_ids(bus)
    except Exception as exc:  # records still expire; stray events wait for the next sweep
        log.warning("could not list the task stream's subjects", error=str(exc))
        in_stream = set()
    keys = set()  # the tasks that have a record (the listing also names deleted keys)
    removed = []
    for task_id in await task_ids(bus.js):
        record = await read_record(kv, task_id)
        if record is None:
            continue
        keys.add(task_id)
        if now - record.updated_at > timedelta(seconds=retention_s(record.owner)):
            objects = await delete_task(bus, store, task_id)
            log.info("task expired", audit="delete", task_id=task_id, owner=record.owner, by="retention",
                     objects=objects)
            removed.append(task_id)
    known = keys - set(removed)
    for task_id in sorted(in_stream - keys):
        if await _has_record(kv, task_id):
            continue
        await purge_messages(bus, task_id)  # e.g. an event published while the task was deleted
        log.info("task events expired", audit="delete", task_id=task_id, owner=None, by="retention")
        removed.append(task_id)
    listed = await asyncio.to_thread(lambda: store.list_keys("uploads/") + store.list_keys("artifacts/"))
    orphans = sorted({key.split("/")[1] for key in listed if key.count("/") >= 2} - known)
    default_s = max(retention_s(None), ORPHAN_GRACE_S)
    for task_id in orphans:
        created = task_created_at(task_id)
        if created is None or now - created <= timedelta(seconds=default_s):
            continue
        if await _has_record(kv, task_id):  # written since the listing
            continue
        objects = await asyncio.to_thread(delete_files, store, task_id)
        log.info("task files expired", audit="delete", task_id=task_id, owner=None, by="retention", objects=objects)
        removed.append(task_id)
    return list(dict.fromkeys(removed))


async def _has_record(kv, task_id: str) -> bool:
    try:
        entry = await kv.get(task_id)
    except KeyNotFoundError:
        return False
    return bool(entry and entry.value)
