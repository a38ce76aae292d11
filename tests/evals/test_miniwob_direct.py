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
    episodes = asyncio.run(run_episodes(["click-test-2", "enter-text-dynamic", "click-tab-2-easy"], [0]))
    assert [(e.task, e.reward) for e in episodes if not e.success] == []
    assert not any(e.false_completion for e in episodes)
