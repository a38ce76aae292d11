import json
from pathlib import Path

from aiorch.contracts import CATALOG, subjects
from aiorch.runtime.asyncapi import document

DOC = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"


def test_the_checked_in_asyncapi_document_is_current():
    assert json.loads(DOC.read_text()) == document(), "run `make asyncapi` to regenerate docs/asyncapi.json"


def test_every_subject_of_the_bus_is_documented_with_its_message():
    spec = document()
    addresses = {channel["address"] for channel in spec["channels"].values()}
    expected = {subjects.TASKS_SUBMITTED, subjects.TASK_CANCEL_ALL, subjects.STEP_RESULTS, subjects.STEP_PROGRESS,
                subjects.PLANNER_PLAN, subjects.task_events("{task_id}"), subjects.tasks_submitted_by("{principal}")}
    expected |= {subjects.agent_requests(name) for name in CATALOG}
    assert addresses == expected
    schemas = spec["components"]["schemas"]
    assert {"TaskSubmitted", "StepRequested", "StepResult", "TaskEvent"} <= set(schemas)
