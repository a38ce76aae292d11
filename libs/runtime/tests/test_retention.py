"""Deleting a task and expiring old ones, over a real nats-server, on both storage backends."""

import asyncio
from datetime import timedelta

import pytest

from nats.js.errors import NotFoundError

from nats.js.api import KeyValueConfig, StorageType, StreamConfig

from aiorch.contracts import EventType, TaskEvent, TaskRecord, TaskSubmitted, new_task_id, subjects, utcnow
from aiorch.runtime.broker import Bus
from aiorch.runtime.records import task_ids
from aiorch.runtime.retention import delete_task, parse_duration, stream_task_ids, sweep, task_created_at
from aiorch.runtime.settings import ServiceSettings

pytestmark = pytest.mark.nats



async def make_task(bus, store, owner="alice", age_s=0.0) -> str:
    task_id = new_task_id()
    ack = await bus.publish(subjects.TASKS_SUBMITTED, TaskSubmitted(task_id=task_id, request="secret words"))
    record = TaskRecord(task_id=task_id, owner=owner, request="secret words", status="completed",
                        updated_at=utcnow() - timedelta(seconds=age_s), submitted_seq=ack.seq)
    await (await bus.tasks_kv()).put(task_id, record.model_dump_json().encode())
    await bus.publish(subjects.task_events(task_id), TaskEvent(task_id=task_id, seq=1, type=EventType.submitted))
    store.put(f"uploads/{task_id}/photo.jpg", "photo.jpg", b"\xff\xd8 face", "image/jpeg")
    store.put(f"artifacts/{task_id}/s1/out.csv", "out.csv", b"a,b\n", "text/csv")
    return task_id


async def events_of(bus, task_id) -> int:
    info = await bus.js.stream_info(subjects.STREAM_TASKS, subjects_filter=subjects.task_events(task_id))
    return sum((info.state.subjects or {}).values())


async def test_deleting_a_task_leaves_nothing_behind(bus, store):
    kept = await make_task(bus, store)
    gone = await make_task(bus, store)
    assert await events_of(bus, gone) == 1
    seq = TaskRecord.model_validate_json((await (await bus.tasks_kv()).get(gone)).value).submitted_seq
    assert (await bus.js.get_msg(subjects.STREAM_TASKS, seq)).data
    assert await delete_task(bus, store, gone) == 2
    with pytest.raises(NotFoundError):
        await bus.js.get_msg(subjects.STREAM_TASKS, seq)
    assert store.list_keys("") == sorted([f"artifacts/{kept}/s1/out.csv", f"uploads/{kept}/photo.jpg"])
    kv = await bus.tasks_kv()
    assert sorted(await kv.keys()) == [kept]
    assert await events_of(bus, gone) == 0 and await events_of(bus, kept) == 1
    assert await delete_task(bus, store, gone) == 0  # twice is harmless


async def test_the_sweep_expires_by_each_owners_retention_and_removes_orphans(bus, store):
    old = await make_task(bus, store, owner="brief", age_s=120)
    young = await make_task(bus, store, owner="patient", age_s=120)
    fresh = await make_task(bus, store, owner="brief", age_s=0)
    orphan = "t_" + format(int((utcnow() - timedelta(days=30)).timestamp() * 1000), "012x") + "abcdef012345"
    store.put(f"uploads/{orphan}/left.txt", "left.txt", b"x", "text/plain")
    retention = {"brief": 60.0, "patient": 3600.0}
    removed = await sweep(bus, store, lambda owner: retention.get(owner, 7 * 86400.0))
    assert sorted(removed) == sorted([old, orphan])
    assert {key.split("/")[1] for key in store.list_keys("")} == {young, fresh}
    assert sorted(await (await bus.tasks_kv()).keys()) == sorted([young, fresh])


async def test_a_retention_longer_than_the_default_keeps_the_record_and_expiry_still_removes_files(bus, store):
    week = 7 * 86400.0
    retention = {"patient": 30 * 86400.0}
    kept = await make_task(bus, store, owner="patient", age_s=8 * 86400)
    gone = await make_task(bus, store, owner="brief", age_s=8 * 86400)
    for info in [await bus.js.stream_info(f"KV_{subjects.KV_TASKS}"), await bus.js.stream_info(subjects.STREAM_TASKS)]:
        assert not info.config.max_age  # no age limit caps a principal's retention: the sweep expires

    assert await sweep(bus, store, lambda owner: retention.get(owner, week)) == [gone]
    assert sorted(await (await bus.tasks_kv()).keys()) == [kept]
    assert {key.split("/")[1] for key in store.list_keys("")} == {kept} and await events_of(bus, kept) == 1

    later = utcnow() + timedelta(days=23)  # 31 days after its last change
    assert await sweep(bus, store, lambda owner: retention.get(owner, week), now=later) == [kept]
    assert store.list_keys("") == [] and await events_of(bus, kept) == 0
    assert await task_ids(bus.js) == []
    assert await stream_task_ids(bus) == set()


async def test_events_without_a_record_are_swept(bus, store):
    task_id = await make_task(bus, store)
    stray = new_task_id()
    await bus.publish(subjects.task_events(stray), TaskEvent(task_id=stray, seq=9, type=EventType.completed))
    assert await stream_task_ids(bus) == {task_id, stray}
    assert await sweep(bus, store, lambda owner: 7 * 86400.0) == [stray]
    assert await stream_task_ids(bus) == {task_id} and await events_of(bus, task_id) == 1


async def test_provisioning_lifts_the_ttl_of_an_existing_bucket_and_keeps_its_records(nats_server):
    old = await Bus.open(ServiceSettings(nats_url=nats_server.url), name="old")
    kv = await old.js.create_key_value(KeyValueConfig(bucket=subjects.KV_TASKS, history=1, ttl=2.0,
                                                      storage=StorageType.FILE))
    await kv.put("t_kept", TaskRecord(task_id="t_kept", owner="patient").model_dump_json().encode())
    await old.js.add_stream(StreamConfig(name=subjects.STREAM_TASKS, subjects=[subjects.TASKS_ALL], max_age=2.0))
    await old.publish(subjects.task_events("t_kept"), TaskEvent(task_id="t_kept", seq=1, type=EventType.submitted))
    await old.close()

    bus = await Bus.open(ServiceSettings(nats_url=nats_server.url), name="new")
    try:
        await bus.provision()
        await bus.provision()  # idempotent
        for stream in (f"KV_{subjects.KV_TASKS}", subjects.STREAM_TASKS):
            assert not (await bus.js.stream_info(stream)).config.max_age
        await asyncio.sleep(3.0)  # past the old limits
        entry = await (await bus.tasks_kv()).get("t_kept")
        assert TaskRecord.model_validate_json(entry.value).owner == "patient"
        assert await events_of(bus, "t_kept") == 1
    finally:
        await bus.close()


def test_durations_and_task_times():
    assert parse_duration("7d") == 7 * 86400 and parse_duration("90") == 90 and parse_duration("1.5h") == 5400
    with pytest.raises(ValueError):
        parse_duration("soon")
    with pytest.raises(ValueError):
        parse_duration("0s")
    assert abs((task_created_at(new_task_id()) - utcnow()).total_seconds()) < 5
    assert task_created_at("other-system-42") is None
