"""MiniWoB++ episodes through the browser executor in-process (no bus, no LLM): the development loop
for the offline executor. Each episode: read the page's utterance, parse it as the instruction
("open URL and <utterance>"), run it with a warm shared Chromium, and read the page's own reward.

    .venv/bin/python -m evals.miniwob_direct [--tasks a,b] [--seeds 0-4] [--held-out] [-v]

Prints per-task success, the share of episodes the executor reported completed while the reward
was <= 0 (false completions; the goal is 0%), and the median episode time.
"""

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from dataclasses import dataclass

from aiorch.browser.config import BrowserSettings
from aiorch.browser.errors import BrowseError
from aiorch.browser.executor import Limits, SharedBrowser, browse
from aiorch.browser.plan import parse
from aiorch.browser.policy import UrlPolicy

from evals.miniwob_site import DEV_SEEDS, DEV_TASKS, HELD_OUT_SEEDS, HELD_OUT_TASKS, MiniWobSite, utterance


@dataclass
class Episode:
    task: str
    seed: int
    instruction: str
    completed: bool
    reward: float | None
    seconds: float
    detail: str

    @property
    def success(self) -> bool:
        return self.reward is not None and self.reward > 0

    @property
    def false_completion(self) -> bool:
        return self.completed and not self.success


async def run_episodes(tasks: list[str], seeds: list[int], verbose: bool = False) -> list[Episode]:
    episodes: list[Episode] = []
    with MiniWobSite() as site:
        shared = SharedBrowser(str(BrowserSettings().chromium_path), UrlPolicy(frozenset({site.host})),
                               Limits(navigation_timeout_s=10, task_timeout_s=30))
        await shared.start()
        reader = await shared.browser.new_page()  # the harness's own page, for utterances
        try:
            for task in tasks:
                for seed in seeds:
                    episode = await run_one(shared, reader, site, task, seed)
                    episodes.append(episode)
                    if verbose:
                        mark = "ok " if episode.success else ("FALSE" if episode.false_completion else "-- ")
                        print(f"{mark} {task:28} {seed:5} {episode.seconds:5.2f}s {episode.instruction[:70]!r} "
                              f"{episode.detail[:300]}", file=sys.stderr, flush=True)
        finally:
            await reader.close()
            await shared.stop()
    return episodes


async def run_one(shared: SharedBrowser, reader, site: MiniWobSite, task: str, seed: int) -> Episode:
    text = await utterance(reader, site, task, seed)
    episode_id = uuid.uuid4().hex[:12]
    url = site.url(task, seed, episode_id)
    started = time.perf_counter()
    completed, detail = False, ""
    try:
        result = await browse(shared, parse(text, {"url": url}, 1))
        completed = True
        detail = "; ".join(f"{s.kind}:{s.status}" + (f"({s.reason[:80]})" if s.reason else "") for s in result.steps[1:-1])
    except BrowseError as failure:
        detail = f"failed [{failure.code}] {failure.message}"
    seconds = time.perf_counter() - started
    reward = site.wait_reward(episode_id, 0.5 if not completed else 1.5)
    detail = f"reward={reward.raw_reward if reward else None} " + detail
    return Episode(task, seed, text, completed, reward.raw_reward if reward else None, seconds, detail)


def report(episodes: list[Episode], title: str) -> str:
    lines = [f"== {title}"]
    tasks = list(dict.fromkeys(e.task for e in episodes))
    for task in tasks:
        mine = [e for e in episodes if e.task == task]
        lines.append(f"{task:28} {sum(e.success for e in mine)}/{len(mine)}"
                     + (f"  false completions: {sum(e.false_completion for e in mine)}" if any(e.false_completion for e in mine) else ""))
    total = len(episodes)
    success = sum(e.success for e in episodes)
    false = sum(e.false_completion for e in episodes)
    median = statistics.median(e.seconds for e in episodes) if episodes else 0.0
    lines.append(f"success {success}/{total} = {success / max(total, 1):.1%}; false completions {false}/{total} = "
                 f"{false / max(total, 1):.1%}; median episode {median:.2f} s")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", help="comma-separated tasks (default: the development tasks)")
    parser.add_argument("--seeds", help="a range like 0-4 or a list like 1,3 (default: the development seeds)")
    parser.add_argument("--held-out", action="store_true",
                        help="the held-out tasks and seeds (run once, after tuning, to report)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per episode on stderr")
    args = parser.parse_args()
    if args.held_out:
        groups = [("held-out tasks, held-out seeds", HELD_OUT_TASKS, list(HELD_OUT_SEEDS)),
                  ("development tasks, held-out seeds", DEV_TASKS, list(HELD_OUT_SEEDS))]
    else:
        tasks = args.tasks.split(",") if args.tasks else DEV_TASKS
        groups = [("development", tasks, _seeds(args.seeds) if args.seeds else list(DEV_SEEDS))]
    for title, tasks, seeds in groups:
        episodes = asyncio.run(run_episodes(tasks, seeds, args.verbose))
        print(report(episodes, title), flush=True)
    return 0


def _seeds(text: str) -> list[int]:
    if "-" in text.strip("-"):
        low, high = text.split("-", 1)
        return list(range(int(low), int(high) + 1))
    return [int(s) for s in text.split(",")]


if __name__ == "__main__":
    sys.exit(main())
