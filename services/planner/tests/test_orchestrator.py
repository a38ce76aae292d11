"""The DAG runner's transitions, without a bus."""

from datetime import timedelta

import pytest

from aiorch.contracts import (
    EventType,
    Plan,
    PlanStep,
    SentimentOutput,
    StepError,
    StepOutputInput,
    StepResult,
    StepStatus,
    TaskRecord,
    TaskStatus,
)
from aiorch.planner.orchestrator import Orchestrator, Policy


def step(id, depends_on=(), inputs=()):
    return PlanStep(id=id, agent="sentiment", instruction=f"do {id}", depends_on=list(depends_on), inputs=list(inputs))


def started(*steps, policy=Policy(max_attempts=2)):
    orchestrator = Orchestrator(policy)
    record = TaskRecord(task_id="t_1", request="req")
    effects = orchestrator.accept(record, Plan(task_id="t_1", planner="offline", steps=list(steps)))
    return orchestrator, record, effects


def output(*texts):
    from aiorch.contracts import SentimentItem

    items = [SentimentItem(text=t, label="positive", compound=0.5, positive=1, neutral=0, negative=0) for t in texts]
    return SentimentOutput(source="inline", items=items, distribution={"positive": len(items)},
                           overall_label="positive", mean_compound=0.5)


def done(step_id, attempt=1, *texts, summary=None):
    return StepResult(task_id="t_1", step_id=step_id, attempt=attempt, agent="sentiment", status="completed",
                      output=output(*(texts or ("x",))), summary=summary or f"summary of {step_id}")


def failed(step_id, attempt=1, retryable=False):
    return StepResult(task_id="t_1", step_id=step_id, attempt=attempt, agent="sentiment", status="failed",
                      error=StepError(code="boom", message=f"{step_id} broke", retryable=retryable))


def types(effects):
    return [event.type for event in effects.events]


def test_events_arrive_in_the_documented_order_with_sequence_numbers():
    orchestrator, record, effects = started(step("s1"))
    assert types(effects) == [EventType.submitted, EventType.planned, EventType.step_started]
    assert [e.seq for e in effects.events] == [1, 2, 3]
    assert [r.step_id for r in effects.dispatch] == ["s1"]
    effects = orchestrator.step_result(record, done("s1"))
    assert types(effects) == [EventType.step_completed, EventType.completed]
    assert [e.seq for e in effects.events] == [4, 5]
    assert record.status == TaskStatus.completed and record.answer == "summary of s1"


def test_independent_steps_start_together_and_dependents_wait():
    orchestrator, record, effects = started(step("a"), step("b"), step("c", ["a", "b"], [StepOutputInput(step="a", output="texts")]))
    assert sorted(r.step_id for r in effects.dispatch) == ["a", "b"]
    effects = orchestrator.step_result(record, done("a", 1, "good", "bad"))
    assert effects.dispatch == []
    effects = orchestrator.step_result(record, done("b"))
    (request,) = effects.dispatch
    assert request.step_id == "c" and request.upstream[0].value == ["good", "bad"]


def test_retryable_failures_are_retried_with_backoff_then_fail_the_task():
    orchestrator, record, _ = started(step("s1"))
    effects = orchestrator.step_result(record, failed("s1", 1, retryable=True))
    assert record.steps["s1"].status == StepStatus.retrying and effects.retries[0][0] == "s1"
    assert "retrying in 0.5s" in effects.events[0].message
    effects = orchestrator.retry_due(record, "s1")
    assert effects.dispatch[0].attempt == 2
    effects = orchestrator.step_result(record, failed("s1", 2, retryable=True))
    assert types(effects) == [EventType.step_failed, EventType.failed]
    assert record.status == TaskStatus.failed and "s1 broke" in record.reason


def test_a_failed_step_skips_its_dependents_but_independent_steps_finish():
    orchestrator, record, _ = started(step("a"), step("b"), step("c", ["a"]))
    orchestrator.step_result(record, failed("a"))
    assert record.steps["c"].status == StepStatus.skipped and record.status == TaskStatus.running
    effects = orchestrator.step_result(record, done("b"))
    assert types(effects)[-1] == EventType.failed
    assert "summary of b" in record.answer and "a broke" in record.answer and "skipped" in record.answer


def test_stale_and_duplicate_results_are_ignored():
    orchestrator, record, _ = started(step("s1"))
    assert orchestrator.step_result(record, done("s1", attempt=7)) is None
    orchestrator.step_result(record, done("s1"))
    assert orchestrator.step_result(record, done("s1")) is None


def test_a_step_that_times_out_is_retried_then_fails():
    orchestrator, record, _ = started(step("s1"), policy=Policy(step_timeout_s=5, max_attempts=1))
    assert record.steps["s1"].deadline - record.steps["s1"].started_at == timedelta(seconds=5)
    effects = orchestrator.step_timed_out(record, "s1", 1)
    assert effects.events[0].error.code == "timeout" and record.status == TaskStatus.failed


def test_cancel_stops_the_task_and_later_results_are_ignored():
    orchestrator, record, _ = started(step("s1"))
    effects = orchestrator.cancel(record, "user asked")
    assert types(effects) == [EventType.cancelled] and record.steps["s1"].status == StepStatus.cancelled
    assert orchestrator.step_result(record, done("s1")) is None
    assert orchestrator.cancel(record, "again") is None


def test_an_empty_plan_fails_the_task_with_its_explanation():
    orchestrator = Orchestrator()
    record = TaskRecord(task_id="t_1", request="write a poem")
    plan = Plan(task_id="t_1", planner="offline", explanation="No agent writes poems.")
    effects = orchestrator.accept(record, plan)
    assert types(effects) == [EventType.submitted, EventType.planned, EventType.failed]
    assert record.reason == "No agent writes poems."


@pytest.mark.parametrize("status", [TaskStatus.running, TaskStatus.completed])
def test_accept_only_plans_a_submitted_task(status):
    record = TaskRecord(task_id="t_1", status=status)
    assert Orchestrator().accept(record, Plan(task_id="t_1", planner="offline")) is None
