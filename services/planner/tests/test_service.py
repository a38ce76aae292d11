"""The planner service in process, over a real nats-server: what it does when the bus fails
it at the worst moment."""

import asyncio
import json
from datetime import timedelta

import pytest

from aiorch.contracts import (
    AgentSpec, EventType, GenericOutput, StepRequested, StepResult, TaskRecord, TaskSubmitted, new_task_id, subjects,
)
from aiorch.planner.app import PlannerService
from aiorch.planner.config import PlannerSettings
from aiorch.runtime.registry import Registration

pytestmark = pytest.mark.nats

SPEC = AgentSpec(
    name="midi", title="MIDI reader", description="Counts the tracks of MIDI files.", accepts=["audio/midi"],
    material=["text"], keywords={"en": ["midi"]},
    examples={"en": ["how many tracks does this midi file have", "what is the tempo of this midi song"]},
)


async def events_of(bus, task_id: str) -> list[str]:
    info = await bus.js.stream_info(subjects.STREAM_TASKS, subjects_filter=subjects.task_events(task_id))
    found = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            message = await bus.js.get_msg(subjects.STREAM_TASKS, seq)
        except Exception:
            continue
        if message.subject == subjects.task_events(task_id):
            found.append(json.loads(message.data)["type"])
    return found


async def test_events_the_bus_refused_after_the_record_changed_are_published_by_the_next_sweep(nats_server, bus,
                                                                                             tmp_path):
    service = PlannerService(PlannerSettings(nats_url=nats_server.url, storage_path=tmp_path, planner_backend="offline",
                                             log_json=False))
    await service.start()
    agent = Registration(SPEC, heartbeat_s=1.0)
    await agent.start(bus.js)
    try:
        await asyncio.sleep(0.5)  # the planner sees the agent
        requests = await bus.js.pull_subscribe(subjects.agent_requests("midi"), durable="midi-test",
                                               stream=subjects.STREAM_WORK)
        task_id = new_task_id()
        kv = await bus.tasks_kv()
        await kv.create(task_id, TaskRecord(task_id=task_id, request="midi: count the tracks").model_dump_json().encode())
        await bus.publish(subjects.TASKS_SUBMITTED, TaskSubmitted(task_id=task_id, request="midi: count the tracks"))
        [message] = await requests.fetch(1, timeout=10)
        request = StepRequested.model_validate_json(message.data)
        await message.ack()

        # The result's transition is stored, then the bus refuses its events (no majority for
        # longer than the publish retries): the redelivered result finds nothing left to do.
        real = service.bus.publish_many
        refused = []

        async def refuse_once(items):
            if not refused:
                refused.append(items)
                raise TimeoutError("no JetStream majority")
            await real(items)

        service.bus.publish_many = refuse_once
        await bus.publish(subjects.STEP_RESULTS, StepResult(
            task_id=task_id, step_id=request.step_id, attempt=request.attempt, agent="midi", status="completed",
            output=GenericOutput(agent="midi", data={"tracks": 2})))
        for _ in range(100):
            if refused:
                break
            await asyncio.sleep(0.1)
        assert refused and json.loads((await kv.get(task_id)).value)["status"] == "completed"
        for _ in range(100):
            if "completed" in await events_of(bus, task_id):
                break
            await asyncio.sleep(0.1)
        events = await events_of(bus, task_id)
        assert events.count(EventType.step_completed.value) == 1 and events[-1] == EventType.completed.value, events
    finally:
        await agent.stop()
        await service.stop()


async def record_of(kv, task_id: str) -> TaskRecord:
    return TaskRecord.model_validate_json((await kv.get(task_id)).value)


async def submit(bus, kv, task_id: str, created_at=None) -> None:
    record = TaskRecord(task_id=task_id, request="sentiment of 'great'")
    record.created_at = created_at or record.created_at
    await kv.create(task_id, record.model_dump_json().encode())
    await bus.publish(subjects.TASKS_SUBMITTED, TaskSubmitted(task_id=task_id, request=record.request,
                                                              submitted_at=record.created_at, source="gateway"))


async def test_a_task_recorded_but_never_submitted_fails_with_the_reason_instead_of_waiting_for_ever(
        nats_server, bus, tmp_path):
    # What a gateway leaves when it stops between writing a task's record and publishing it.
    kv = await bus.tasks_kv()
    orphan = new_task_id()
    await kv.create(orphan, TaskRecord(task_id=orphan, request="sentiment of 'great'").model_dump_json().encode())
    # After an outage: an old record whose submission is still waiting for a planner.
    waiting = new_task_id()
    await submit(bus, kv, waiting, created_at=(await record_of(kv, orphan)).created_at - timedelta(minutes=10))
    service = PlannerService(PlannerSettings(nats_url=nats_server.url, storage_path=tmp_path, planner_backend="offline",
                                             log_json=False, sweep_interval_s=0.3, never_submitted_after_s=1.0))
    gates = {waiting: asyncio.Event()}  # planning these tasks waits until the test opens their gate
    real_plan = service.planner.plan

    async def gated_plan(task_id, *args):
        if task_id in gates:
            await gates[task_id].wait()
        return await real_plan(task_id, *args)

    service.planner.plan = gated_plan
    await service.start()
    try:
        # Sweeps come and go while the old submission is being planned: it is not failed.
        await asyncio.sleep(2.5)
        assert (await record_of(kv, waiting)).status == "submitted"
        # Under load (another submission in planning the whole time) the orphan still fails.
        busy = new_task_id()
        gates[busy] = asyncio.Event()
        await submit(bus, kv, busy)
        await asyncio.sleep(0.5)  # the planner has taken it
        gates[waiting].set()
        for _ in range(100):
            record = await record_of(kv, orphan)
            if record.terminal:
                break
            await asyncio.sleep(0.1)
        assert record.status == "failed" and "no planner ever took its submission" in record.reason, record.reason
        assert await events_of(bus, orphan) == [EventType.submitted.value, EventType.failed.value]
        assert (await record_of(kv, busy)).status == "submitted" and not gates[busy].is_set()
        planned = await record_of(kv, waiting)
        assert planned.status != "submitted" and "no planner" not in (planned.reason or "")
        assert EventType.planned.value in await events_of(bus, waiting)
    finally:
        for gate in gates.values():
            gate.set()
        await service.stop()
