"""Crashes and restarts lose nothing: a killed agent's step is redelivered, a restarted
planner picks up the tasks in flight."""

import signal

import pytest

from tests.conftest import ON_BOTH_BACKENDS

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROWS = 25_000


def big_csv() -> bytes:
    lines = [f"review {n}: the room was {'great' if n % 3 else 'awful'} and the staff {'kind' if n % 2 else 'rude'}"
             for n in range(ROWS)]
    return ("text\n" + "\n".join(lines)).encode()


@ON_BOTH_BACKENDS  # its large output goes to storage by reference; the other faults are the bus's
def test_sigkill_of_the_agent_holding_a_step_loses_nothing(fresh_system):
    system = fresh_system(AIORCH_ACK_WAIT_S="2")
    task_id = system.submit("sentiment of the text column", files={"reviews.csv": big_csv()})
    system.events(task_id, until=lambda e: e["type"] == "progress")  # the agent is working on it
    system.services["sentiment"].kill()
    assert system.task(task_id)["status"] == "running"
    system.start_service("aiorch.sentiment")
    events = system.events(task_id, timeout=120)
    assert events[-1]["type"] == "completed", events[-1]
    result = system.task(task_id)["steps"]["s1"]["result"]
    assert result["output_ref"]["name"] == "output.json"  # large output, by reference
    full = system.http.get(f"/v1/tasks/{task_id}/artifacts/output.json").json()
    assert len(full["items"]) == ROWS


def test_a_planner_restarted_mid_task_finishes_it(fresh_system):
    system = fresh_system()
    task_id = system.submit("sentiment of the text column", files={"reviews.csv": big_csv()})
    system.events(task_id, until=lambda e: e["type"] == "step_started")
    system.services["planner"].signal(signal.SIGKILL)
    system.services["planner"].process.wait()
    system.start_service("aiorch.planner")
    events = system.events(task_id, timeout=120)
    assert events[-1]["type"] == "completed"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_sigterm_drains_the_agent_before_it_exits(fresh_system):
    system = fresh_system()
    task_id = system.submit("sentiment of the text column", files={"reviews.csv": big_csv()})
    system.events(task_id, until=lambda e: e["type"] == "progress")
    assert system.services["sentiment"].stop(timeout=60) == 0
    assert system.events(task_id, timeout=30)[-1]["type"] == "completed"
    # A restart, not a removal: a task submitted while no instance runs is planned for the
    # agent as usual and waits in its queue for the next one.
    waiting = system.submit('sentiment of "what a lovely day"')
    system.events(waiting, until=lambda e: e["type"] == "step_started")
    assert system.task(waiting)["status"] == "running"
    system.start_service("aiorch.sentiment")
    assert system.events(waiting, timeout=60)[-1]["type"] == "completed"
