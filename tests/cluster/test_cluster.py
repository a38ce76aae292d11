"""aiorch on a three-node NATS cluster with R3 streams: losing a node loses nothing.

While tasks flow (concurrency 16), the node leading AIORCH_TASKS is killed (SIGKILL) and
started again, then the node leading AIORCH_WORK: every accepted task completes, exactly
once, and the restarted nodes catch up. `make test` runs 200 tasks; the 1,000-task run:
AIORCH_CLUSTER_FULL=1 .venv/bin/pytest tests/cluster -k 1000
"""

import asyncio
import json
import os
import time
from collections import Counter

import aiohttp
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from aiorch.contracts import TERMINAL_TASK_STATUSES, subjects
from aiorch.runtime.broker import Bus
from aiorch.runtime.settings import ServiceSettings

from tests.cluster.conftest import KEY

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
FULL = os.environ.get("AIORCH_CLUSTER_FULL") == "1"
CONCURRENCY = 16


class Load:
    """Submits `total` sentiment tasks through the gateway, `CONCURRENCY` at a time. A 503
    (no stream leader for a moment) or a dropped connection is tried again: only a 202
    makes a task accepted."""

    def __init__(self, url: str, total: int) -> None:
        self.url, self.total = url, total
        self.accepted: list[str] = []
        self.refused = Counter()
        self.hold_from = total
        """Submits from this number on wait for `resume` (so a restart can finish mid-load)."""
        self.resume = asyncio.Event()

    async def run(self) -> None:
        numbers = iter(range(self.total))
        async with aiohttp.ClientSession(
            base_url=self.url, headers={"Authorization": f"Bearer {KEY}"},
            connector=aiohttp.TCPConnector(limit=CONCURRENCY), timeout=aiohttp.ClientTimeout(total=30),
        ) as client:
            async def worker() -> None:
                for n in numbers:
                    if n >= self.hold_from:
                        await self.resume.wait()
                    self.accepted.append(await self.submit(client, n))

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))

    async def submit(self, client: aiohttp.ClientSession, n: int) -> str:
        body = {"request": f'What is the sentiment of "The staff were lovely, visit {n}"?'}
        deadline = time.monotonic() + 60
        while True:
            try:
                async with client.post("/v1/tasks", json=body) as response:
                    if response.status == 202:
                        return (await response.json())["task_id"]
                    assert response.status == 503, (response.status, await response.text())
                    self.refused[503] += 1
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                self.refused[type(exc).__name__] += 1
            assert time.monotonic() < deadline, f"task {n} not accepted for 60 s: {self.refused}"
            await asyncio.sleep(0.2)


async def wait_until_terminal(bus: Bus, task_ids: list[str], timeout: float) -> dict[str, str]:
    kv = await bus.tasks_kv()
    status: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    pending = list(task_ids)
    while pending and time.monotonic() < deadline:
        still = []
        for task_id in pending:
            try:
                record = json.loads((await kv.get(task_id)).value)
            except Exception:
                still.append(task_id)
                continue
            status[task_id] = record["status"]
            if record["status"] not in TERMINAL_TASK_STATUSES:
                still.append(task_id)
        pending = still
        if pending:
            await asyncio.sleep(1.0)
    return status


async def read_all(bus: Bus, subject: str, timeout: float = 30.0) -> list:
    """Every message of AIORCH_TASKS on `subject`, read from the start by an ephemeral consumer,
    until the consumer says none is left. A fetch that times out is tried again: a cluster
    just back from node restarts may answer slowly, and stopping at the first silence read
    only part of the stream (the latest events, those of recovered tasks, went missing)."""
    sub = await bus.js.pull_subscribe(
        subject, stream=subjects.STREAM_TASKS,
        config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=60),
    )
    found = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                found += await sub.fetch(500, timeout=2.0)
            except TimeoutError:
                pass
            try:  # done when the server has nothing left for it and nothing waits in the client
                if (await sub.consumer_info()).num_pending == 0 and sub.pending_msgs == 0:
                    break
            except TimeoutError:
                continue
        else:
            raise AssertionError(f"{subject}: could not read the stream within {timeout:g} s")
    finally:
        await sub.unsubscribe()
    return found


async def events_by_task(bus: Bus) -> dict[str, list[dict]]:
    events: dict[str, list[dict]] = {}
    for msg in await read_all(bus, subjects.TASK_EVENTS_ALL):
        event = json.loads(msg.data)
        events.setdefault(event["task_id"], []).append(event)
    return events


async def submissions_by_task(bus: Bus) -> Counter:
    return Counter(json.loads(msg.data)["task_id"] for msg in await read_all(bus, subjects.TASKS_SUBMITTED))


async def restart(cluster, node) -> None:
    node.start()
    await asyncio.to_thread(cluster.wait_healthy, 60)


@pytest.mark.parametrize("total", [200, pytest.param(1000, marks=[
    pytest.mark.cluster_full, pytest.mark.skipif(not FULL, reason="AIORCH_CLUSTER_FULL=1 runs the 1,000-task version")])])
async def test_tasks_survive_the_loss_of_the_stream_leaders(cluster_and_system, total):
    cluster, system = cluster_and_system
    cluster.start()  # every node up, whatever a test before left
    bus = await Bus.open(ServiceSettings(nats_url=cluster.url), name="cluster-test")
    try:
        load = Load(system.url, total)
        running = asyncio.create_task(load.run())
        killed = []

        async def when_accepted(share: float) -> None:
            while len(load.accepted) < int(share * total) and not running.done():
                await asyncio.sleep(0.05)

        load.hold_from = int(0.55 * total)  # the second kill comes after the first node caught up
        for stream in (subjects.STREAM_TASKS, subjects.STREAM_WORK):
            await when_accepted(0.2 if not killed else 0.55)
            leader = cluster.stream_leader(stream)
            assert leader, f"{stream} has no leader"
            node = cluster.node(leader)
            node.kill()
            if stream == subjects.STREAM_WORK:
                load.resume.set()
            killed.append((stream, leader, len(load.accepted)))
            await when_accepted(0.4 if len(killed) == 1 else 0.75)
            began = time.monotonic()
            await restart(cluster, node)
            killed[-1] += (f"restarted and current in {time.monotonic() - began:.1f} s",)
        await running
        assert len(killed) == 2 and all(kill[2] < total for kill in killed), f"kills came after the load: {killed}"

        accepted = load.accepted
        assert len(accepted) == total == len(set(accepted))
        status = await wait_until_terminal(bus, accepted, timeout=120 if total <= 200 else 300)
        not_done = {task_id: state for task_id, state in status.items() if state != "completed"}
        missing = set(accepted) - set(status)
        assert not missing and not not_done and len(status) == total, (
            f"{len(missing)} without a record, not completed: {Counter(not_done.values())}; kills: {killed}")

        # A record is written before its events go out: events the bus refused are published
        # by the planner's sweep a moment later, so a task's last events may trail its record.
        deadline = time.monotonic() + 30
        while True:
            events = await events_by_task(bus)
            trailing = [t for t in accepted if not any(e["type"] == "completed" for e in events.get(t, []))]
            if not trailing or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        for task_id in accepted:
            types = Counter(event["type"] for event in events.get(task_id, []))
            assert types["completed"] == 1 and types["step_completed"] == 1, (task_id, types)
            assert types["failed"] == types["cancelled"] == types["rejected"] == 0, (task_id, types)
            seqs = [event["seq"] for event in events[task_id]]
            assert seqs == sorted(set(seqs)), (task_id, seqs)  # no event twice, in order
        submitted = await submissions_by_task(bus)
        assert all(submitted[task_id] == 1 for task_id in accepted), "a submission was stored twice"

        # The restarted nodes caught up: every node holds the same streams.
        await asyncio.to_thread(cluster.wait_healthy, 60)
        for stream in (subjects.STREAM_TASKS, subjects.STREAM_WORK, f"KV_{subjects.KV_TASKS}"):
            deadline = time.monotonic() + 30
            while True:
                states = {node.name: cluster.stream_state(node, stream) for node in cluster.nodes}
                shapes = {(s["messages"], s["last_seq"]) for s in states.values() if s}
                if len(shapes) == 1 and all(states.values()):
                    break
                assert time.monotonic() < deadline, f"{stream} differs between nodes: {states}"
                await asyncio.sleep(0.5)
        print(f"\n{total} tasks, kills {killed}, submits tried again: {dict(load.refused)}")
    finally:
        await bus.close()


async def submit_once(client: aiohttp.ClientSession, text: str) -> tuple[int, dict, float]:
    start = time.monotonic()
    async with client.post("/v1/tasks", json={"request": f'What is the sentiment of "{text}"?'}) as response:
        return response.status, await response.json(), time.monotonic() - start


async def test_one_node_down_keeps_accepting_two_down_answers_503_fast_then_recovers(cluster_and_system):
    cluster, system = cluster_and_system
    cluster.start()
    bus = await Bus.open(ServiceSettings(nats_url=cluster.url), name="quorum-test")
    accepted: list[str] = []
    try:
        async with aiohttp.ClientSession(base_url=system.url, headers={"Authorization": f"Bearer {KEY}"},
                                         timeout=aiohttp.ClientTimeout(total=60)) as client:
            # One node down (the task bucket's leader): after at most an election, tasks are accepted.
            first = cluster.node(cluster.stream_leader(f"KV_{subjects.KV_TASKS}"))
            first.kill()
            deadline = time.monotonic() + 20
            while len(accepted) < 5:
                status, body, _ = await submit_once(client, f"one node down, {len(accepted)}")
                if status == 202:
                    accepted.append(body["task_id"])
                else:
                    assert status == 503 and time.monotonic() < deadline, (status, body)
                    await asyncio.sleep(0.2)
            status, body, _ = await submit_once(client, "one node down, after the election")
            assert status == 202, body
            accepted.append(body["task_id"])

            # Two nodes down: no majority. A submit fails within seconds, saying why.
            second = next(node for node in cluster.nodes if node.running and node is not first)
            second.kill()
            # (Agents cannot write their registry heartbeats meanwhile: the registry's grace
            # keeps them planned for, so a task submitted when a node returns is not refused
            # as "not available".)
            status, body, elapsed = await submit_once(client, "two nodes down")
            assert status == 503, (status, body)
            assert "NATS" in body["detail"] and "majority" in body["detail"], body
            assert elapsed < 10, f"503 after {elapsed:.1f} s"

            # A node returns: submits succeed again, and every accepted task completes.
            first.start()
            deadline = time.monotonic() + 60
            while True:
                status, body, _ = await submit_once(client, "a node came back")
                if status == 202:
                    accepted.append(body["task_id"])
                    break
                assert status == 503 and time.monotonic() < deadline, (status, body)
                await asyncio.sleep(0.5)
            second.start()
        status = await wait_until_terminal(bus, accepted, timeout=90)
        stuck = {task_id: (await (await bus.tasks_kv()).get(task_id)).value.decode()[:1500]
                 for task_id in accepted if status.get(task_id) != "completed"}
        assert not stuck, stuck
        await asyncio.to_thread(cluster.wait_healthy, 60)
    finally:
        await bus.close()
        cluster.start()
