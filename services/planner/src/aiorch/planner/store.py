"""Task records in the KV bucket, changed only through revision-checked updates."""

import asyncio
from collections import OrderedDict
from collections.abc import Callable

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from aiorch.contracts import TaskRecord, utcnow
from aiorch.runtime.records import task_ids

from .orchestrator import Effects

Transition = Callable[[TaskRecord], Effects | None]


class TaskStore:
    """Keeps the revision of records this replica wrote, so a transition usually costs
    one KV write; a stale revision (another replica wrote) means re-read and re-apply."""

    def __init__(self, js: JetStreamContext, kv: KeyValue, cache_size: int = 10_000) -> None:
        self.js, self.kv = js, kv
        self._cache: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self._cache_size = cache_size
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    async def get(self, task_id: str) -> tuple[int, TaskRecord] | None:
        try:
            entry = await self.kv.get(task_id)
        except KeyNotFoundError:
            return None
        if entry.value is None:
            return None
        self._remember(task_id, entry.revision, entry.value)
        return entry.revision, TaskRecord.model_validate_json(entry.value)

    async def create(self, record: TaskRecord) -> bool:
        """False if a record with this id exists already."""
        data = record.model_dump_json().encode()
        try:
            revision = await self.kv.create(record.task_id, data)
        except KeyWrongLastSequenceError:
            return False
        self._remember(record.task_id, revision, data)
        return True

    async def update(self, task_id: str, transition: Transition, attempts: int = 20) -> tuple[TaskRecord, Effects] | None:
        """Apply `transition` to the current record and write it back if it changed."""
        lock, users = self._locks.get(task_id, (asyncio.Lock(), 0))
        self._locks[task_id] = (lock, users + 1)
        async with lock:
            try:
                for _ in range(attempts):
                    cached = self._cache.get(task_id)
                    if cached is None:
                        if await self.get(task_id) is None:
                            return None
                        cached = self._cache[task_id]
                    revision, data = cached
                    record = TaskRecord.model_validate_json(data)
                    effects = transition(record)
                    if effects is None:
                        return None
                    record.outbox = effects.events
                    record.updated_at = utcnow()
                    new_data = record.model_dump_json().encode()
                    try:
                        new_revision = await self.kv.update(task_id, new_data, last=revision)
                    except KeyWrongLastSequenceError:
                        self._cache.pop(task_id, None)
                        continue
                    self._remember(task_id, new_revision, new_data)
                    return record, effects
                raise RuntimeError(f"task {task_id}: too many concurrent updates")
            finally:
                lock_, users = self._locks[task_id]
                if users == 1:
                    del self._locks[task_id]
                else:
                    self._locks[task_id] = (lock_, users - 1)

    async def keys(self) -> list[str]:
        return await task_ids(self.js)

    def _remember(self, task_id: str, revision: int, data: bytes) -> None:
        self._cache[task_id] = (revision, data)
        self._cache.move_to_end(task_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
