"""The agent registry, end to end: an agent service defined only in this test (a real
process with its own spec) joins a running system; the gateway takes its file type and the
planner routes to it with no other file changed; when it stops heartbeating it is no longer
planned for and the plan says why. Bad registrations are rejected and break nothing."""

import json
import os
import tempfile
import textwrap
import time
from pathlib import Path

import nats
import pytest

from aiorch.contracts import REGISTRY_BUCKET, AgentRegistration, AgentSpec
from aiorch.runtime.local import LocalSystem, ServiceProcess



pytestmark = pytest.mark.e2e
ARTIFACTS = Path(os.environ.get("AIORCH_TEST_ARTIFACTS", "test-artifacts"))
KEY = "test-key-0123456789abcdef"

AGENT = textwrap.dedent('''
    """A MIDI reader, defined only in the registry test."""

    from aiorch.contracts import AgentSpec, GenericOutput, ParameterSpec
    from aiorch.runtime.agent import AgentService, StepOutcome, run_agent

    SPEC = AgentSpec(
        name="midi", version="1.0.0", title="MIDI reader", description="Counts the tracks of MIDI files.",
        accepts=["audio/midi"], kinds={"audio/midi": "file"}, material=["file"],
        missing="attach the MIDI file.",
        parameters=[ParameterSpec(name="url", description="unused; shows a declared parameter", from_request="url")],
        keywords={"en": ["midi", "tempo", "track"], "de": ["spur"]},
        examples={"en": ["how many tracks does this midi file have", "what is the tempo of this midi song",
                         "read the tracks of the midi file"]},
    )


    class MidiService(AgentService):
        name = "midi"
        spec = SPEC

        def handle(self, request, ctx):
            ref = request.files[0]
            tracks = ctx.read_file(ref).count(b"MTrk")
            ctx.progress(1.0, f"midi agent: {ref.name} has {tracks} tracks")
            # An agent the contracts do not name reports a GenericOutput: no contracts release needed.
            return StepOutcome(GenericOutput(agent="midi", data={"tracks": tracks}),
                               summary=f"**{ref.name}** has {tracks} tracks")


    if __name__ == "__main__":
        run_agent(MidiService)
''')
MIDI = (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0"
        + b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00" * 2)


def wait_for(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s")


@pytest.fixture(scope="module")
def world():
    with tempfile.TemporaryDirectory(prefix="aiorch-registry-") as root:
        system = LocalSystem(Path(root), ARTIFACTS / "logs" / "registry", KEY, agents=["aiorch.sentiment"],
                             AIORCH_REGISTRY_GRACE_S="1")  # the killed agent is gone a moment after its beats
        system.start()
        (Path(root) / "midi_agent.py").write_text(AGENT)
        agent = ServiceProcess("midi_agent", {**system.env, "PYTHONPATH": root, "AIORCH_REGISTRY_HEARTBEAT_S": "0.5"},
                               system.log_dir)
        yield system, agent
        agent.kill()
        system.stop()


def agents(system) -> dict:
    response = system.http.get("/v1/agents")
    assert response.status_code == 200, response.text
    return response.json()


def dry_run(system, request: str, files: dict | None = None):
    if files:
        return system.http.post("/v1/plan", data={"request": request}, files=list(files.items()))
    return system.http.post("/v1/plan", json={"request": request})


def test_an_agent_defined_only_here_joins_is_planned_for_and_leaves(world):
    system, agent = world
    assert [a["spec"]["name"] for a in agents(system)["agents"]] == ["sentiment"]
    refused = dry_run(system, "how many tracks does this midi file have?", {"song.mid": MIDI})
    assert refused.status_code == 415 and "audio/midi" in refused.text

    agent.start(timeout=120)
    wait_for(lambda: "midi" in [a["spec"]["name"] for a in agents(system)["agents"]])
    limits = system.http.get("/v1/limits").json()
    assert "audio/midi" in limits["accepted_media_types"] and "midi" in [a["name"] for a in limits["agents"]]

    task_id = system.submit("how many tracks does this midi file have?", files={"song.mid": MIDI})
    events = system.events(task_id)
    plan = events[1]["plan"]
    assert [step["agent"] for step in plan["steps"]] == ["midi"]
    assert plan["steps"][0]["inputs"][0]["file"]["media_type"] == "audio/midi"
    assert events[-1]["type"] == "completed", events[-1]
    assert events[-1]["answer"] == "**song.mid** has 2 tracks"
    assert system.task(task_id)["steps"]["s1"]["result"]["output"] == {
        "agent": "midi", "texts": [], "files": [], "data": {"tracks": 2}}
    # The routing prototypes follow the registry too: a request in other words, no keywords needed.
    assert [s["agent"] for s in dry_run(system, "which instruments play in this song?",
                                        {"song.mid": MIDI}).json()["steps"]] == ["midi"]
    # The others are planned as before.
    assert [s["agent"] for s in dry_run(system, "what is the sentiment of 'lovely'").json()["steps"]] == ["sentiment"]

    agent.kill()  # no goodbye: its heartbeats just stop
    wait_for(lambda: "midi" in [g["name"] for g in agents(system)["gone"]])
    # The planner watches the registry on its own: it may notice a beat later than the gateway.
    plan = wait_for(lambda: (lambda p: p if "not available" in (p.get("explanation") or "") else None)(
        dry_run(system, "what is the tempo of the midi song?").json()))
    assert plan["steps"] == []
    assert "The midi agent is not available: it stopped sending heartbeats" in plan["explanation"]
    assert dry_run(system, "how many tracks?", {"song.mid": MIDI}).status_code == 415


async def put_raw(system, key: str, value: bytes) -> None:
    connection = await nats.connect(system.nats.url)
    try:
        kv = await connection.jetstream().key_value(REGISTRY_BUCKET)
        await kv.put(key, value)
    finally:
        await connection.close()


async def test_bad_registrations_are_rejected_and_planning_goes_on(world):
    system, _ = world
    table = AgentSpec(name="grabber", title="Grabber", description="d", accepts=["text/plain"],
                      kinds={"text/plain": "photo"}, material=["photo"])
    await put_raw(system, "junk.1", b"{not a registration")
    await put_raw(system, "future.1", json.dumps(
        {"schema_version": "99.0.0", "instance": "1", "spec": table.model_copy(update={"name": "future"}).model_dump()}
    ).encode())
    await put_raw(system, "grabber.1", AgentRegistration(instance="1", spec=table, ttl_s=600).model_dump_json().encode())
    problems = wait_for(lambda: len(agents(system)["problems"]) >= 3 and agents(system)["problems"])
    assert any(line.startswith("junk.1: rejected") for line in problems)
    assert any(line.startswith("future.1: rejected") and "99.0.0" in line for line in problems)
    assert "grabber: rejected: text/plain is text to sentiment, not photo" in problems
    names = [a["spec"]["name"] for a in agents(system)["agents"]]
    assert "grabber" not in names and "future" not in names
    task_id = system.submit('What is the sentiment of "I love this phone" and "the battery is awful"?')
    events = system.events(task_id)
    step = events[1]["plan"]["steps"][0]
    assert step["agent"] == "sentiment"
    assert step["params"]["texts"] == ["I love this phone", "the battery is awful"]
