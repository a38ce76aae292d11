"""A few real MiniWoB++ episodes through the offline executor in-process (evals/miniwob_direct.py)."""

import asyncio

import pytest

from aiorch.browser.config import BrowserSettings

pytestmark = pytest.mark.skipif(not BrowserSettings().chromium_path.exists(), reason="Chromium is not installed")


def test_real_miniwob_episodes_are_rewarded():
    pytest.importorskip("aiorch.browser.plan")
    from evals.miniwob_direct import run_episodes
    from evals.miniwob_site import html_root

    try:
        html_root()
    except RuntimeError as missing:
        pytest.skip(str(missing))
    # The last one the executor cannot do ("select words similar to ..."): it counts as a
    # failed episode, with the executor's reason, and the run goes on.
    episodes = asyncio.run(run_episodes(["click-test-2", "enter-text-dynamic", "click-tab-2-easy", "click-checkboxes-soft"], [0]))
    assert [(e.task, e.reward) for e in episodes if not e.success] == [("click-checkboxes-soft", None)]
    assert not any(e.false_completion for e in episodes)
    assert not episodes[-1].completed and "needs a thesaurus" in episodes[-1].detail
