"""Listing task records over a real nats-server: a snapshot that misses nothing while the
records are being rewritten, and forgets deleted tasks."""

import asyncio

import pytest

from aiorch.contracts import TaskRecord, new_task_id
from aiorch.runtime.records import erase_record, read_record, task_ids

pytestmark = pytest.mark.nats


async def test_listing_sees_every_record_while_they_are_rewritten(bus):
    kv = await bus.tasks_kv()
    ids = [new_task_id() for _ in range(40)]
    for task_id in ids:
        await kv.put(task_id, TaskRecord(task_id=task_id, request="r").model_dump_json().encode())
    stop = asyncio.Event()

    async def rewrite() -> None:  # what the planner does to running tasks all the time
        n = 0
        while not stop.is_set():
            task_id = ids[n % len(ids)]
            await kv.put(task_id, TaskRecord(task_id=task_id, request=f"r{n}").model_dump_json().encode())
            n += 1

    writer = asyncio.create_task(rewrite())
    try:
        for _ in range(30):
            assert set(await task_ids(bus.js)) >= set(ids)
    finally:
        stop.set()
        await writer


async def test_an_erased_record_is_no_longer_listed_or_read(bus):
    kv = await bus.tasks_kv()
    assert await task_ids(bus.js) == []
    kept, gone = new_task_id(), new_task_id()
    for task_id in (kept, gone):
        await kv.put(task_id, TaskRecord(task_id=task_id, request="r").model_dump_json().encode())
        await kv.put(task_id, TaskRecord(task_id=task_id, request="r2").model_dump_json().encode())
    await erase_record(bus.js, gone)
    assert await task_ids(bus.js) == [kept]
    assert await read_record(kv, gone) is None and (await read_record(kv, kept)).request == "r2"
    await kv.create(gone, TaskRecord(task_id=gone, request="again").model_dump_json().encode())  # id free again
