"""The planner plans from its catalog (the agent registry in the service): an agent it has
never heard of is routed to by its spec alone, one that left is explained, and the
planner's code names no agent."""

import re
from pathlib import Path

import pytest

from aiorch.contracts import AgentSpec, FileRef, ParameterSpec, installed_specs
from aiorch.planner.planners import OfflinePlanner
from aiorch.planner.planners.catalog import Catalog, RegistryCatalog
from aiorch.runtime.registry import Snapshot

MIDI = FileRef(key="uploads/t_1/song.mid", name="song.mid", media_type="audio/midi", size=10, sha256="0" * 64)
SPEC = AgentSpec(
    name="midi", title="MIDI reader", description="Counts the tracks of MIDI files.", accepts=["audio/midi"],
    material=["file"], missing="attach the MIDI file.", keywords={"en": ["midi", "tempo"]},
    parameters=[ParameterSpec(name="tempo", type="number", description="unused")],
    examples={"en": ["how many tracks does this midi file have", "what is the tempo of this midi song"]},
)


@pytest.fixture(scope="module")
def shipped():
    OfflinePlanner.warm()
    return installed_specs()


def test_an_agent_known_only_from_its_spec_is_planned_for(shipped):
    planner = OfflinePlanner({**shipped, "midi": SPEC})
    plan = planner.plan_now("t_1", "what is the tempo of this midi song?", [MIDI], {})
    assert [(s.agent, [i.file.name for i in s.inputs]) for s in plan.steps] == [("midi", ["song.mid"])]
    by_file = planner.plan_now("t_1", "can you do something with this?", [MIDI], {})
    assert [s.agent for s in by_file.steps] == ["midi"]
    missing = planner.plan_now("t_1", "what is the tempo of the midi song?", [], {})
    assert missing.steps == [] and missing.explanation.startswith("The midi agent has nothing to work on: attach")
    # The shipped agents are planned as before beside it.
    assert [s.agent for s in planner.plan_now("t_1", "clean this file", [], {}).steps] == []
    assert [s.agent for s in planner.plan_now("t_1", "sentiment of 'great'", [], {}).steps] == ["sentiment"]


def test_the_planner_follows_the_registry_and_says_why_an_agent_is_gone(shipped):
    catalog = RegistryCatalog()
    planner = OfflinePlanner(catalog)
    assert planner.plan_now("t_1", "sentiment of 'great'", [], {}).steps == []
    catalog.update(Snapshot(specs={**shipped, "midi": SPEC}))
    assert [s.agent for s in planner.plan_now("t_1", "tempo of this midi?", [MIDI], {}).steps] == ["midi"]
    catalog.update(Snapshot(specs=shipped, gone={"midi": (SPEC, "it stopped sending heartbeats (last at 10:00:00Z)")}))
    plan = planner.plan_now("t_1", "what is the tempo of this midi song?", [MIDI], {})
    assert plan.steps == []
    assert plan.explanation.startswith("The midi agent is not available: it stopped sending heartbeats "
                                       "(last at 10:00:00Z). No agent reads audio/midi.")
    assert [s.agent for s in planner.plan_now("t_1", "sentiment of 'great'", [], {}).steps] == ["sentiment"]


def test_parameters_follow_the_spec(shipped):
    older = shipped["sentiment"].model_copy(
        update={"parameters": [p for p in shipped["sentiment"].parameters if p.name != "texts"]})
    planner = OfflinePlanner({**shipped, "sentiment": older})
    step = planner.plan_now("t_1", "the sentiment of 'good' and 'bad'", [], {}).steps[0]
    assert step.params == {"text": "good"}  # an agent that declares no `texts` gets none


def test_the_planners_code_names_no_agent():
    names = set(installed_specs()) | {"midi"}
    code = Path(__file__).parents[1] / "src" / "aiorch" / "planner" / "planners"
    pattern = re.compile(r"""["'](%s)["']""" % "|".join(sorted(names)))
    named = [f"{path.name}:{number}: {line.strip()}" for path in sorted(code.glob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert named == []


def test_an_empty_registry_plans_nothing_and_says_so():
    plan = OfflinePlanner(Catalog({})).plan_now("t_1", "sentiment of 'great'", [], {})
    assert plan.steps == [] and "aiorch can do: nothing now" in plan.explanation



def test_agents_that_come_and_go_do_not_grow_the_planners_memory(shipped):
    from aiorch.planner.planners.routing import embedder

    for n in range(3):  # an agent re-registering with new examples each time (a rolling update)
        spec = SPEC.model_copy(update={"examples": {"en": [f"how many tracks does midi file number {n} have"]}})
        matrix, rows = embedder().prepare(Catalog({**shipped, "midi": spec}))
        assert len(rows["midi"]) == 1
    remembered = set(embedder()._vectors)
    assert "how many tracks does midi file number 2 have" in remembered
    assert not {"how many tracks does midi file number 0 have", "how many tracks does midi file number 1 have"} & remembered
