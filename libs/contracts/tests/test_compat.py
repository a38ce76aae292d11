"""The exported schemas are current, and incompatible changes need a major version bump."""

import copy

import pytest

from aiorch.contracts import SCHEMA_MODELS, SCHEMA_VERSION
from aiorch.contracts.compat import check, current_schemas, incompatibilities, stored_schemas


def test_stored_schemas_match_the_models():
    stored, current = stored_schemas(), current_schemas()
    assert set(stored) == set(SCHEMA_MODELS), "run `make schemas` after adding or removing a message"
    stale = [name for name in current if stored[name] != current[name]]
    assert not stale, f"schemas out of date for {stale}: run `make schemas`"


def test_current_models_are_compatible_with_the_stored_schemas():
    assert check(stored_schemas(), current_schemas()) == []


def _schema(name: str) -> dict:
    return copy.deepcopy(current_schemas()[name])


def test_a_removed_field_is_incompatible():
    old = _schema("TaskSubmitted")
    new = copy.deepcopy(old)
    del new["properties"]["request"]
    assert "TaskSubmitted.request: field removed" in incompatibilities(old, new)


def test_a_changed_type_is_incompatible():
    old = _schema("FileRef")
    new = copy.deepcopy(old)
    new["properties"]["size"] = {"type": "string"}
    problems = incompatibilities(old, new)
    assert any("FileRef.size: type integer no longer accepted" in problem for problem in problems)


def test_a_new_required_field_is_incompatible():
    old = _schema("StepProgress")
    new = copy.deepcopy(old)
    new["properties"]["eta_s"] = {"type": "number"}
    new["required"] = [*new.get("required", []), "eta_s"]
    assert "StepProgress.eta_s: new required field" in incompatibilities(old, new)


def test_a_removed_enum_value_in_a_nested_definition_is_incompatible():
    old = _schema("TaskEvent")
    new = copy.deepcopy(old)
    new["$defs"]["EventType"]["enum"].remove("rejected")
    assert any("EventType: enum values removed ['rejected']" in p for p in incompatibilities(old, new))


def test_additions_are_compatible():
    old = _schema("TaskEvent")
    new = copy.deepcopy(old)
    new["properties"]["priority"] = {"type": "integer", "default": 0}
    new["$defs"]["EventType"]["enum"].append("paused")
    assert incompatibilities(old, new) == []


@pytest.mark.parametrize("bump, expected_problems", [(False, 1), (True, 0)])
def test_a_major_bump_allows_an_incompatible_change(bump, expected_problems):
    stored = {"FileRef": _schema("FileRef")}
    current = {"FileRef": _schema("FileRef")}
    del current["FileRef"]["properties"]["sha256"]
    if bump:
        major = int(SCHEMA_VERSION.split(".")[0])
        current["FileRef"]["x-schema-version"] = f"{major + 1}.0.0"
    assert len(check(stored, current)) == expected_problems
