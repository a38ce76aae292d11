import pytest
from pydantic import ValidationError

from aiorch.contracts import (
    CATALOG,
    SCHEMA_VERSION,
    FileInput,
    FileRef,
    Plan,
    PlanStep,
    SentimentOutput,
    StepOutputInput,
    StepResult,
    TaskSubmitted,
    accepted_media_types,
    new_task_id,
    subjects,
)

REF = FileRef(key="uploads/t_1/a.txt", name="a.txt", media_type="text/plain", size=3, sha256="0" * 64)


def test_every_message_carries_the_schema_version():
    message = TaskSubmitted(task_id="t_1", request="hi")
    assert message.model_dump()["schema_version"] == SCHEMA_VERSION


def test_a_message_from_another_major_version_is_refused_with_a_reason():
    with pytest.raises(ValidationError, match="major version must be 1"):
        TaskSubmitted.model_validate({"schema_version": "2.0.0", "task_id": "t_1", "request": "hi"})


def test_a_newer_minor_version_with_extra_fields_is_read():
    message = TaskSubmitted.model_validate({"schema_version": "1.4.0", "task_id": "t_1", "request": "hi", "new": 1})
    assert message.request == "hi"


def test_task_ids_must_be_subject_safe():
    with pytest.raises(ValidationError, match="task_id"):
        TaskSubmitted(task_id="a.b>", request="x")
    assert subjects.is_valid_task_id(new_task_id())


def test_new_task_ids_sort_by_age():
    first = new_task_id()
    assert new_task_id() >= first[:14]


def test_plan_refuses_cycles_unknown_dependencies_and_undeclared_inputs():
    step = PlanStep(id="s1", agent="sentiment", instruction="x", depends_on=["s2"])
    other = PlanStep(id="s2", agent="sentiment", instruction="y", depends_on=["s1"])
    with pytest.raises(ValidationError, match="cycle"):
        Plan(task_id="t", planner="offline", steps=[step, other])
    with pytest.raises(ValidationError, match="unknown step 's9'"):
        Plan(task_id="t", planner="offline", steps=[PlanStep(id="s1", agent="sentiment", instruction="x", depends_on=["s9"])])
    reads = PlanStep(id="s2", agent="sentiment", instruction="y", inputs=[StepOutputInput(step="s1", output="texts")])
    with pytest.raises(ValidationError, match="without depending on it"):
        Plan(task_id="t", planner="offline", steps=[PlanStep(id="s1", agent="sentiment", instruction="x"), reads])


def test_inputs_and_outputs_round_trip_through_json():
    plan = Plan(
        task_id="t", planner="offline",
        steps=[PlanStep(id="s1", agent="sentiment", instruction="x", inputs=[FileInput(file=REF)])],
    )
    again = Plan.model_validate_json(plan.model_dump_json())
    assert isinstance(again.steps[0].inputs[0], FileInput)
    result = StepResult(
        task_id="t", step_id="s1", attempt=1, agent="sentiment", status="completed",
        output=SentimentOutput(source="inline", items=[], distribution={}, overall_label="neutral", mean_compound=0),
    )
    assert isinstance(StepResult.model_validate_json(result.model_dump_json()).output, SentimentOutput)


def test_a_failed_result_needs_an_error():
    with pytest.raises(ValidationError, match="needs an error"):
        StepResult(task_id="t", step_id="s1", attempt=1, agent="sentiment", status="failed")


def test_accepted_media_types_come_from_the_catalog():
    assert "sentiment" in CATALOG
    assert {"text/plain", "text/csv"} <= set(accepted_media_types())
