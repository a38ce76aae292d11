"""The MiniWoB++ harness of `make eval` (evals/browser_miniwob.py): two episodes of an easy task through
the real gateway, planner and browser agent; the page's reward must arrive and agree with the task's end."""

import importlib.util
import time

import pytest

from evals.browser_miniwob import CHROMIUM, Episode, Harness, request_for, routing_problem

URL = "http://127.0.0.1:8000/miniwob/click-test.html?seed=0&episode=e1"


def test_a_plan_is_checked_for_one_browser_step_with_the_whole_utterance():
    utterance = 'Enter "3XZ" into the text field and press Submit.'
    request = request_for(URL, utterance)
    good = {"steps": [{"agent": "browser", "instruction": request, "params": {"url": URL}}]}
    assert routing_problem(good, URL, utterance) == ""
    two = {"steps": [{"agent": "browser", "instruction": request, "params": {"url": URL}},
                     {"agent": "sentiment", "instruction": request, "params": {}}]}
    assert "planned ['browser', 'sentiment']" in routing_problem(two, URL, utterance)
    cut = {"steps": [{"agent": "browser", "instruction": f"On {URL}: Enter", "params": {"url": URL}}]}
    assert "lost the utterance" in routing_problem(cut, URL, utterance)
    assert "planned nothing" in routing_problem({"steps": [], "explanation": "no"}, URL, utterance)


def test_a_completed_step_without_a_reward_is_a_false_completion():
    assert Episode("t", 0, "dev", step_status="completed", raw_reward=None).false_completion
    assert Episode("t", 0, "dev", step_status="completed", raw_reward=-1.0).false_completion
    assert not Episode("t", 0, "dev", step_status="completed", raw_reward=0.8).false_completion
    assert not Episode("t", 0, "dev", step_status="failed", raw_reward=None).false_completion


@pytest.mark.e2e
def test_two_episodes_through_the_system_report_rewards_that_agree_with_the_task(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing (apt-get install chromium)")
    if importlib.util.find_spec("miniwob") is None:
        pytest.skip("the 'miniwob' package is missing (make setup installs it)")
    started = time.perf_counter()
    episodes = [Episode("click-test", seed, "dev") for seed in (0, 1)]
    with Harness(tmp_path, concurrency=2) as harness:
        harness.run(episodes)
    for episode in episodes:
        assert episode.routed, episode.error
        assert episode.task_id and episode.status in ("completed", "failed"), episode
        assert episode.raw_reward is not None, f"the page reported no reward: {episode}"
        assert (episode.status == "completed") == (episode.raw_reward > 0), episode
        assert (episode.step_status == "completed") == (episode.raw_reward > 0), episode
        assert not episode.false_completion
        assert 0 < episode.seconds < 30
    print(f"harness check: {time.perf_counter() - started:.1f} s")
