"""The agent registry: what a view makes of registrations, good and bad, and the publish /
heartbeat / expiry round trip against a real nats-server."""

import asyncio
import json
from datetime import timedelta

import pytest

from aiorch.contracts import AgentRegistration, AgentSpec, registry_key, utcnow
from aiorch.runtime.registry import Registration, RegistryView, registry_kv

TABLE = AgentSpec(name="tables", version="1.2.0", title="Tables", description="d", accepts=["text/csv"],
                  kinds={"text/csv": "table"}, material=["table"])


def put(view: RegistryView, spec: AgentSpec, instance: str = "a", now: float = 0.0, started_s: float = 0.0,
        **fields) -> str:
    record = AgentRegistration(instance=instance, spec=spec, ttl_s=3.0, **fields)
    record.started_at = utcnow() + timedelta(seconds=started_s)
    key = registry_key(spec.name, instance)
    view.apply(key, record.model_dump_json().encode(), now=now)
    return key


def test_a_registration_makes_an_agent_live_and_its_deletion_says_it_stopped():
    changes = []
    view = RegistryView(on_change=changes.append)
    key = put(view, TABLE)
    assert list(view.snapshot.specs) == ["tables"] and view.snapshot.accepted_media_types() == ["text/csv"]
    view.apply(key, None, "DEL")
    assert view.snapshot.specs == {} and "stopped" in view.snapshot.gone["tables"][1]
    assert len(changes) == 2


def test_an_agent_that_stops_is_still_planned_for_during_the_grace_and_gone_after():
    changes = []
    view = RegistryView(on_change=changes.append, grace_s=30.0)
    key = put(view, TABLE, now=100.0)
    view.apply(key, None, "DEL", now=101.0)  # a restart: the old instance says goodbye
    assert list(view.snapshot.specs) == ["tables"] and view.snapshot.instances == {"tables": []}
    assert view.instances() == {} and view.snapshot.gone == {}
    put(view, TABLE, instance="b", now=110.0)  # ... and the new one arrives within the grace
    put(view, TABLE, instance="b", now=131.0)  # its heartbeats
    view.expire(now=132.0)  # (past the first one's grace)
    assert list(view.snapshot.specs) == ["tables"] and view.snapshot.gone == {}
    assert [i["instance"] for i in view.snapshot.instances["tables"]] == ["b"]
    put(view, TABLE, instance="b", now=132.0)  # a heartbeat
    view.apply(registry_key("tables", "b"), None, "DEL", now=133.0)  # stopped for good
    view.expire(now=162.9)
    assert "tables" in view.snapshot.specs
    view.expire(now=163.0)
    assert view.snapshot.specs == {} and "stopped at" in view.snapshot.gone["tables"][1]
    assert len(changes) == 2  # live (b's arrival changed nothing a planner sees), then gone
    # Silence (a crash, or a bus that could not store the beats) gets the same grace.
    put(view, TABLE, instance="c", now=200.0)
    view.expire(now=204.0)  # past its validity
    assert "tables" in view.snapshot.specs and view.instances() == {}
    put(view, TABLE, instance="c", now=220.0)  # the beats get through again
    assert [i["instance"] for i in view.snapshot.instances["tables"]] == ["c"]
    view.expire(now=224.0)
    view.expire(now=253.9)
    assert "tables" in view.snapshot.specs
    view.expire(now=254.0)
    assert view.snapshot.specs == {} and "stopped sending heartbeats" in view.snapshot.gone["tables"][1]


def test_an_agent_that_misses_its_heartbeats_is_gone_with_the_reason():
    view = RegistryView()
    put(view, TABLE, now=100.0)
    view.expire(now=102.0)
    assert "tables" in view.snapshot.specs
    view.expire(now=104.0)
    assert view.snapshot.specs == {} and "stopped sending heartbeats" in view.snapshot.gone["tables"][1]
    put(view, TABLE, now=105.0)  # back again
    assert "tables" in view.snapshot.specs and view.snapshot.gone == {}


@pytest.mark.parametrize("value, says", [
    (b"{not json", "rejected"),
    (json.dumps({"schema_version": "9.0.0", "instance": "a", "spec": TABLE.model_dump()}).encode(),
     "schema_version"),
    (json.dumps({"instance": "a", "spec": {"name": "tables"}}).encode(), "spec.title"),
    (AgentRegistration(instance="b", spec=TABLE).model_dump_json().encode(), "is not tables.b"),
])
def test_malformed_or_incompatible_registrations_are_rejected_and_the_others_still_count(value, says):
    view = RegistryView()
    put(view, TABLE.model_copy(update={"name": "good"}))
    view.apply("tables.x", value)
    assert list(view.snapshot.specs) == ["good"]
    assert any(line.startswith("tables.x: rejected") and says in line for line in view.snapshot.problems), \
        view.snapshot.problems


def test_a_media_type_owned_with_another_meaning_is_rejected():
    view = RegistryView()
    put(view, TABLE, started_s=-10)
    photos = AgentSpec(name="photos", title="P", description="d", accepts=["text/csv", "image/png"],
                       kinds={"text/csv": "photo", "image/png": "photo"}, material=["photo"])
    put(view, photos)
    assert list(view.snapshot.specs) == ["tables"]
    assert view.snapshot.problems == ["photos: rejected: text/csv is table to tables, not photo"]
    # The same meaning, or none declared, is no clash.
    put(view, photos.model_copy(update={"kinds": {"image/png": "photo"}}))
    assert list(view.snapshot.specs) == ["photos", "tables"] and view.snapshot.problems == []


def test_instances_with_different_versions_are_reported_and_the_newer_wins_only_when_compatible():
    view = RegistryView()
    put(view, TABLE, "old", started_s=-10)
    put(view, TABLE.model_copy(update={"version": "1.3.0", "description": "newer"}), "new")
    assert view.snapshot.specs["tables"].version == "1.3.0"
    assert view.snapshot.problems == ["tables: instances run different versions: 1.2.0, 1.3.0"]
    assert [i["version"] for i in view.snapshot.instances["tables"]] == ["1.2.0", "1.3.0"]
    put(view, TABLE.model_copy(update={"version": "2.0.0"}), "next")
    assert view.snapshot.specs["tables"].version == "1.3.0"
    assert any("2.0.0 is incompatible with the running 1.2.0" in line for line in view.snapshot.problems)
    # Once the 1.x instances leave, 2.0.0 is the agent.
    view.apply("tables.old", None, "DEL")
    view.apply("tables.new", None, "DEL")
    assert view.snapshot.specs["tables"].version == "2.0.0" and view.snapshot.problems == []


def test_a_spec_must_say_what_its_kinds_are_of():
    with pytest.raises(ValueError, match="does not accept"):
        AgentSpec(name="x", title="X", description="d", accepts=[], kinds={"text/csv": "table"})


@pytest.mark.nats
async def test_publish_heartbeat_and_stop_through_a_real_bucket(bus):
    changes = []
    view = RegistryView(on_change=changes.append, check_s=0.1)
    await view.start(bus.js)
    registration = Registration(TABLE, heartbeat_s=0.2)
    await registration.start(bus.js)
    await asyncio.sleep(0.3)
    assert "tables" in view.snapshot.specs
    await asyncio.sleep(1.0)  # heartbeats keep it (valid for 3 beats)
    assert "tables" in view.snapshot.specs
    await registration.stop()
    await asyncio.sleep(0.3)
    assert view.snapshot.specs == {} and "stopped" in view.snapshot.gone["tables"][1]
    # A silent instance (a crash: no delete) leaves after its validity.
    silent = Registration(TABLE, heartbeat_s=0.2)
    await silent.start(bus.js)
    silent._task.cancel()
    await asyncio.sleep(0.3)
    assert "tables" in view.snapshot.specs
    await asyncio.sleep(1.0)
    assert "heartbeats" in view.snapshot.gone["tables"][1]
    # A second view started now sees the same (the bucket keeps the last values).
    late = RegistryView()
    await late.start(bus.js)
    assert late.snapshot.specs == {}
    kv = await registry_kv(bus.js)
    assert (await kv.get(silent.key)).value
    await view.stop()
    await late.stop()
