"""Replica settings, provisioning that updates streams in place, several server URLs, and
a client that rides out the death of the server it is connected to (seconds each)."""

import asyncio
import time

import pytest
from pydantic import ValidationError

from aiorch.contracts import REGISTRY_BUCKET, EventType, TaskEvent, subjects
from aiorch.runtime.broker import Bus, PullWorker, stream_configs
from aiorch.runtime.cluster import NatsCluster
from aiorch.runtime.settings import ServiceSettings

pytestmark = pytest.mark.nats
STREAMS = [config.name for config in stream_configs()] + [f"KV_{subjects.KV_TASKS}", f"KV_{REGISTRY_BUCKET}"]


def test_nats_url_takes_several_servers_and_replicas_are_bounded():
    settings = ServiceSettings(nats_url=" nats://a:4222, tls://b:4222 ,nats://c:4222")
    assert settings.nats_servers == ["nats://a:4222", "tls://b:4222", "nats://c:4222"]
    assert ServiceSettings().nats_replicas == 1
    assert ServiceSettings(nats_replicas=3).nats_replicas == 3
    for replicas in (0, 6):
        with pytest.raises(ValidationError):
            ServiceSettings(nats_replicas=replicas)
    with pytest.raises(ValidationError) as caught:
        ServiceSettings(nats_url="nats://a:4222,http://user:hunter2@b:80")
    message = caught.value.errors()[0]["msg"]
    assert "http://b:80" in message and "hunter2" not in message
    with pytest.raises(ValidationError):
        ServiceSettings(nats_url=" , ")


async def test_replicas_more_than_one_server_can_hold_fail_with_the_setting_named(nats_server):
    bus = await Bus.open(ServiceSettings(nats_url=nats_server.url, nats_replicas=3), name="test")
    try:
        with pytest.raises(Exception, match="AIORCH_NATS_REPLICAS|replicas"):
            await bus.provision()
    finally:
        await bus.close()


async def test_provisioning_scales_existing_streams_in_place_keeping_messages_and_consumers(tmp_path):
    with NatsCluster(tmp_path / "cluster") as cluster:
        one = await Bus.open(ServiceSettings(nats_url=cluster.url), name="r1")
        await one.provision()
        for name in STREAMS:
            assert (await one.js.stream_info(name)).config.num_replicas == 1
        kv = await one.tasks_kv()
        await kv.put("t1", b"{}")
        await one.js.publish(subjects.task_events("t1"), b"{}")
        await one.ensure_consumer(subjects.STREAM_TASKS, "kept", subjects.TASK_EVENTS_ALL)
        await one.close()

        three = await Bus.open(ServiceSettings(nats_url=cluster.url, nats_replicas=3), name="r3")
        assert three.limits.replicas == 3
        await three.provision()
        await three.provision()  # idempotent
        for name in STREAMS:
            info = await three.js.stream_info(name)
            assert info.config.num_replicas == 3 and info.cluster.leader, name
        assert (await three.js.stream_info(subjects.STREAM_TASKS)).state.messages == 1
        assert (await (await three.tasks_kv()).get("t1")).value == b"{}"
        assert (await three.js.consumer_info(subjects.STREAM_TASKS, "kept")).num_pending == 1
        await three.close()


async def test_a_client_rides_out_the_death_of_its_server(tmp_path):
    """Connected to one node, which is then killed: publishes are acknowledged (by the new
    leader, through another node) and a pull worker resumes; nothing lost, nothing twice."""
    with NatsCluster(tmp_path / "cluster") as cluster:
        first = cluster.nodes[0]
        bus = await Bus.open(ServiceSettings(nats_url=cluster.url, nats_replicas=3), name="rider")
        await bus.provision()
        # The rider knows only the first node; it learns the others from it (cluster INFO).
        rider = await Bus.open(ServiceSettings(nats_url=first.url, nats_replicas=3), name="rider-one-url")
        await rider.ensure_consumer(subjects.STREAM_TASKS, "rider", subjects.TASK_EVENTS_ALL, ack_wait_s=5)
        seen: list[str] = []

        async def handle(msg) -> None:
            seen.append(msg.headers["Nats-Msg-Id"])
            await msg.ack()

        worker = PullWorker(rider, subjects.STREAM_TASKS, "rider", handle, concurrency=4)
        await worker.start()
        try:
            sent = []
            for n in range(60):
                if n == 20:
                    first.kill()  # the server the rider is connected to
                msg_id = f"e{n}"
                await rider.publish(subjects.task_events(f"t{n}"), _event(n), msg_id=msg_id)
                sent.append(msg_id)
            deadline = time.monotonic() + 30
            while len(set(seen)) < len(sent) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert sorted(set(seen)) == sorted(sent)
            assert (await rider.js.stream_info(subjects.STREAM_TASKS)).state.messages == len(sent)
            assert rider.nc.connected_url.port != first.port
        finally:
            await worker.stop(5)
            await rider.close()
            await bus.close()


def _event(n: int, seq: int = 1) -> TaskEvent:
    return TaskEvent(task_id=f"t{n}", seq=seq, type=EventType.progress, message="x")


async def test_a_task_events_are_stored_in_the_order_they_are_published(nats_server):
    bus = await Bus.open(ServiceSettings(nats_url=nats_server.url), name="order")
    await bus.provision()
    try:
        events = [(subjects.task_events("t1"), _event(1, seq), f"t1.{seq}") for seq in range(1, 7)]
        await asyncio.gather(bus.publish_many(events[:3]), bus.publish_many(events[3:]))
        sub = await bus.js.pull_subscribe(subjects.task_events("t1"), stream=subjects.STREAM_TASKS)
        stored = [TaskEvent.model_validate_json(msg.data).seq for msg in await sub.fetch(6, timeout=5)]
        assert stored == [1, 2, 3, 4, 5, 6]
    finally:
        await bus.close()
