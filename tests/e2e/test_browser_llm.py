"""LLM mode: real browser-use and real Chromium, driven by a local OpenAI-compatible server
that answers with scripted actions; the result reaches the platform."""

import json
import re
from pathlib import Path

import pytest

from aiorch.browser.testsite import DemoSite
from aiorch.runtime.testing import FakeOpenAI

BROWSER_PYTHON = Path(__file__).resolve().parents[2] / ".venv-browser" / "bin" / "python"
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not BROWSER_PYTHON.exists(),
                                                   reason="browser-use's environment is missing: run `make setup`")]


class ScriptedModel:
    """Navigates to the address in the task, then reports the page's title."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, body: dict) -> str:
        self.calls += 1
        text = json.dumps(body["messages"])
        base = {"thinking": "", "evaluation_previous_goal": "", "memory": "", "next_goal": ""}
        if self.calls == 1:
            url = re.search(r"http://127\.0\.0\.1:\d+/[\w/-]*", text).group(0)
            return json.dumps({**base, "action": [{"navigate": {"url": url, "new_tab": False}}]})
        title = "Trail Shoe" if "Trail Shoe" in text else "unknown"
        return json.dumps({**base, "action": [{"done": {"text": f"The page title is {title}", "success": True}}]})


def test_browser_use_completes_a_task_and_the_answer_reaches_the_platform(fresh_system):
    script = ScriptedModel()
    with DemoSite() as site, FakeOpenAI(script) as model:
        system = fresh_system(
            AIORCH_ALLOWED_HOSTS=site.host,
            service_env={"browser": {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": model.base_url}},
            service_python={"browser": str(BROWSER_PYTHON)},
        )
        task_id = system.submit(f"open {site.url}/product/1 and tell me the title of the page")
        events = system.events(task_id, timeout=120)
    assert events[-1]["type"] == "completed", events[-1]
    output = system.task(task_id)["steps"]["s1"]["result"]["output"]
    assert output["mode"] == "llm" and output["main_text"] == "The page title is Trail Shoe"
    assert output["actions"][-1] == "done" and "navigate" in output["actions"] and output["url"].endswith("/product/1")
    assert script.calls >= 2 and "Trail Shoe" in events[-1]["answer"]


def test_llm_mode_refuses_forbidden_addresses(fresh_system):
    script = ScriptedModel()
    with FakeOpenAI(script) as model:
        system = fresh_system(
            service_env={"browser": {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": model.base_url}},
            service_python={"browser": str(BROWSER_PYTHON)},
        )
        task_id = system.submit("open http://169.254.169.254/latest/meta-data/ and read it")
        events = system.events(task_id, timeout=60)
    assert events[-1]["type"] == "failed" and "cloud metadata" in events[-2]["error"]["message"]
    assert script.calls == 0
