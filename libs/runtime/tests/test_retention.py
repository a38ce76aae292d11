"""Deleting a task and expiring old ones, over a real nats-server, on both storage backends."""

from datetime import timedelta

import pytest

from nats.js.errors import NotFoundError

from aiorch.contracts import EventType, TaskEvent, TaskRecord, TaskSubmitted, new_task_id, subjects, utcnow
from aiorch.runtime.retention import delete_task, parse_duration, sweep, task_created_at

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


def test_durations_and_task_times():
    assert parse_duration("7d") == 7 * 86400 and parse_duration("90") == 90 and parse_duration("1.5h") == 5400
    with pytest.raises(ValueError):
        parse_duration("soon")
    with pytest.raises(ValueError):
        parse_duration("0s")
    assert abs((task_created_at(new_task_id()) - utcnow()).total_seconds()) < 5
    assert task_created_at("other-system-42") is None
