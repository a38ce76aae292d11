"""Offline planner routing, and the OpenAI planner through the real `openai` client
against a local OpenAI-compatible server, with its fallbacks."""

import json

import pytest

from aiorch.contracts import CATALOG, FileRef
from aiorch.planner.planners import OfflinePlanner
from aiorch.planner.planners.llm import OpenAIPlanner
from aiorch.runtime.testing import FakeOpenAI

TXT = FileRef(key="uploads/t/a.txt", name="a.txt", media_type="text/plain", size=1, sha256="0" * 64)
PNG = FileRef(key="uploads/t/a.png", name="a.png", media_type="image/png", size=1, sha256="0" * 64)


@pytest.mark.parametrize(
    "request_text",
    ["What is the sentiment of 'I love it'?", "Are these reviews positive or negative: great, awful",
     "analyse the emotions in this text: I am furious", "how does the customer feel? 'never again'"],
)
def test_sentiment_requests_go_to_the_sentiment_agent(request_text):
    plan = OfflinePlanner().plan_now("t_1", request_text, [], {})
    assert [s.agent for s in plan.steps] == ["sentiment"] and plan.planner == "offline"


def test_attached_text_files_become_step_inputs():
    plan = OfflinePlanner().plan_now("t_1", "what do you make of this?", [TXT], {})
    assert plan.steps[0].agent == "sentiment" and plan.steps[0].inputs[0].file == TXT


@pytest.mark.parametrize("request_text", ["write me a poem about the sea", "what is 17 * 23?", "delete all files"])
def test_requests_no_agent_serves_get_an_empty_plan_with_an_explanation(request_text):
    plan = OfflinePlanner().plan_now("t_1", request_text, [], {})
    assert plan.steps == [] and "aiorch can do" in plan.explanation


def test_a_web_address_chains_the_browser_into_the_agent_the_wording_asks_for():
    plan = OfflinePlanner().plan_now(
        "t_1", "get the reviews from https://shop.example/p/7 and tell me whether they are mostly positive", [], {})
    assert [(s.agent, s.depends_on) for s in plan.steps] == [("browser", []), ("sentiment", ["s1"])]
    assert plan.steps[1].inputs[0].output == "texts"
    plan = OfflinePlanner().plan_now("t_1", "clean the table on https://x.org/prices", [], {})
    assert [s.agent for s in plan.steps] == ["browser", "csv"] and plan.steps[1].inputs[0].output == "files"
    only = OfflinePlanner().plan_now("t_1", "take a screenshot of https://example.org", [], {})
    assert [s.agent for s in only.steps] == ["browser"]


def test_files_no_agent_reads_are_explained():
    audio = FileRef(key="uploads/t_1/a.mp3", name="a.mp3", media_type="audio/mpeg", size=10, sha256="0" * 64)
    plan = OfflinePlanner().plan_now("t_1", "sentiment please", [audio], {})
    assert plan.steps == [] and "audio/mpeg" in plan.explanation


def plan_answer(steps, explanation=""):
    return lambda body: json.dumps({"steps": steps, "explanation": explanation})


def llm_step(id, agent="sentiment", depends_on=(), inputs=()):
    return {"id": id, "agent": agent, "instruction": f"do {id}", "depends_on": list(depends_on),
            "inputs": list(inputs), "uses_files": True}


def planner_for(fake: FakeOpenAI, timeout_s: float = 5.0) -> OpenAIPlanner:
    return OpenAIPlanner("sk-test", fake.base_url, "test-model", timeout_s, 0, fallback=OfflinePlanner())


async def test_a_good_llm_plan_is_used():
    steps = [llm_step("s1"), llm_step("s2", depends_on=["s1"], inputs=[{"step": "s1", "output": "texts"}])]
    with FakeOpenAI(plan_answer(steps)) as fake:
        plan = await planner_for(fake).plan("t_1", "sentiment twice", [TXT], {})
    assert plan.planner == "openai" and [s.id for s in plan.steps] == ["s1", "s2"]
    assert fake.requests[0]["max_tokens"] == 800 and fake.requests[0]["temperature"] == 0
    assert plan.steps[0].inputs[0].file == TXT and plan.fallback_reason is None
    schema = fake.requests[0]["response_format"]["json_schema"]
    agent = schema["schema"]["$defs"]["LLMStep"]["properties"]["agent"]
    assert schema["strict"] is True and agent.get("enum", [agent.get("const")]) == list(CATALOG)


@pytest.mark.parametrize(
    "answer, reason",
    [
        (plan_answer([llm_step("s1", agent="hacker")]), "ValidationError"),
        (plan_answer([llm_step("s1", depends_on=["s2"]), llm_step("s2", depends_on=["s1"])]), "cycle"),
        (lambda body: (500, {"error": {"message": "server exploded"}}), "InternalServerError"),
        (lambda body: "not json at all", "ValidationError"),
        (plan_answer([llm_step("s1"), llm_step("s2", agent="csv", depends_on=["s1"],
                                               inputs=[{"step": "s1", "output": "texts"}])]), "csv cannot read"),
        (plan_answer([llm_step("s1", inputs=[{"step": "s9", "output": "texts"}])]), "unknown step"),
    ],
    ids=["unknown-agent", "cycle", "http-500", "not-json", "unreadable-input", "missing-input"],
)
async def test_invalid_answers_and_errors_fall_back_to_the_offline_planner(answer, reason):
    with FakeOpenAI(answer) as fake:
        plan = await planner_for(fake).plan("t_1", "what is the sentiment of 'great'", [], {})
    assert plan.planner == "offline" and [s.agent for s in plan.steps] == ["sentiment"]
    assert reason in plan.fallback_reason


async def test_a_timeout_falls_back_to_the_offline_planner():
    with FakeOpenAI(plan_answer([llm_step("s1")])) as fake:
        fake.delay_s = 2.0
        plan = await planner_for(fake, timeout_s=0.3).plan("t_1", "sentiment of 'ok'", [], {})
    assert plan.planner == "offline" and "Timeout" in plan.fallback_reason
