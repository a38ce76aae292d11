"""The browser agent on MiniWoB++ (the `miniwob` package's task pages, MIT), through the real system.

Each episode: the harness reads the page's own utterance for a task and seed (with a Playwright page of
its own), submits "On <url>: <utterance>" to the gateway (the dry-run planner must route it to one browser
step carrying the whole utterance), follows the task's events until it ends, and reads the reward the
agent's copy of the page reported (`MiniWobSite.wait_reward`).

Figures per split: success (raw reward > 0), false completions (the step said `completed` but the page's
reward was <= 0 or never came; goal 0%), median episode time (submit -> the task's last event). Per-task
success and every failed episode go to stderr; each episode to test-artifacts/evals/browser_miniwob.jsonl.

Splits: dev = DEV_TASKS x DEV_SEEDS (tune on these only); held-out = HELD_OUT_TASKS x HELD_OUT_SEEDS and
DEV_TASKS x HELD_OUT_SEEDS. `--quick`: a few episodes. $AIORCH_EVAL_BROWSER_CONCURRENCY: episodes at once
(default 2); $AIORCH_EVAL_BROWSER_SPLITS: e.g. "dev" to run only the development split.
"""

import asyncio
import inspect
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from evals.common import REPO, EvalRow
from evals.miniwob_site import DEV_SEEDS, DEV_TASKS, HELD_OUT_SEEDS, HELD_OUT_TASKS, MiniWobSite, utterance

KEY = "eval-key-0123456789abcdef"
CHROMIUM = Path(os.environ.get("AIORCH_CHROMIUM_PATH") or "/usr/bin/chromium")
TERMINAL = {"completed", "failed", "cancelled", "rejected"}
TASK_TIMEOUT_S = 120.0
REWARD_GRACE_S = 3.0
"""After the task ended, how long the page's reward may still take to arrive (a beacon)."""


@dataclass
class Episode:
    task: str
    seed: int
    split: str
    utterance: str = ""
    task_id: str = ""
    routed: bool = False
    """The dry-run plan was one browser step with the whole utterance and the page's address."""
    status: str = ""
    """The task's end: completed, failed, cancelled, rejected, or 'timeout'."""
    step_status: str = ""
    reward: float | None = None
    raw_reward: float | None = None
    reason: str = ""
    seconds: float = 0.0
    error: str = ""
    not_done: list[str] | None = None
    actions: list[str] | None = None
    """The step's checklist, "status: description -> target", for reading a failure afterwards."""

    @property
    def success(self) -> bool:
        return self.raw_reward is not None and self.raw_reward > 0

    @property
    def false_completion(self) -> bool:
        return self.step_status == "completed" and not self.success

    @property
    def false_failure(self) -> bool:
        """The page counted the episode a success, but the step did not say `completed`."""
        return self.success and self.step_status != "completed"


def request_for(url: str, instruction: str) -> str:
    return f"On {url}: {instruction}"


def routing_problem(plan: dict, url: str, instruction: str) -> str:
    """'' when the plan is one browser step whose instruction holds the whole utterance, else what is wrong."""
    steps = plan.get("steps") or []
    agents = [step.get("agent") for step in steps]
    if agents != ["browser"]:
        return f"planned {agents or 'nothing'}" + (f": {plan.get('explanation')}" if plan.get("explanation") else "")
    step = steps[0]
    if instruction not in step.get("instruction", ""):
        return f"the browser step's instruction lost the utterance: {step.get('instruction')!r}"
    if (step.get("params") or {}).get("url") != url:
        return f"the browser step's url is {(step.get('params') or {}).get('url')!r}, not {url!r}"
    return ""


class Harness:
    """The MiniWoB site, the system (gateway, planner, browser agent) and the harness's own Chromium."""

    def __init__(self, root: Path, concurrency: int = 2) -> None:
        self.root = root
        self.concurrency = concurrency

    def __enter__(self) -> "Harness":
        from aiorch.runtime.local import LocalSystem

        self.site = MiniWobSite().__enter__()
        log_dir = REPO / "test-artifacts" / "logs" / f"eval-browser-{self.root.name}"
        # Offline by design: no LLM planner, no browser-use, whatever the caller's environment holds.
        no_llm = {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""}
        try:
            # Only the agent under test (where LocalSystem can start a subset): a quicker start, less memory.
            only = {"agents": ["aiorch.browser"]} if "agents" in inspect.signature(LocalSystem).parameters else {}
            self.system = LocalSystem(
                self.root, log_dir, KEY, **only,
                service_env={"browser": {"AIORCH_ALLOWED_HOSTS": self.site.host, **no_llm}, "planner": no_llm},
                AIORCH_PLANNER_BACKEND="offline",
            )
            self.system.start_timeout = 180.0  # a loaded machine loads the planner's model slowly
            self.system.start()
        except Exception:
            self.site.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.system.stop()
        self.site.__exit__(*exc)

    def run(self, episodes: list[Episode], on_done=None) -> list[Episode]:
        return asyncio.run(self._run(episodes, on_done))

    async def _run(self, episodes: list[Episode], on_done) -> list[Episode]:
        from playwright.async_api import async_playwright

        queue: asyncio.Queue[Episode] = asyncio.Queue()
        for episode in episodes:
            queue.put_nowait(episode)
        async with async_playwright() as playwright, httpx.AsyncClient(
            base_url=self.system.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30,
        ) as http:
            browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                       args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])

            async def worker() -> None:
                page = await browser.new_page()
                while not queue.empty():
                    episode = queue.get_nowait()
                    try:
                        await self._episode(page, http, episode)
                    except Exception as exc:  # one broken episode is a failed episode, not a broken evaluation
                        episode.error = episode.error or f"harness: {type(exc).__name__}: {exc}"
                    if on_done:
                        on_done(episode)
                await page.close()

            try:
                await asyncio.gather(*(worker() for _ in range(max(1, self.concurrency))))
            finally:
                await browser.close()
        return episodes

    async def _episode(self, page, http: httpx.AsyncClient, episode: Episode) -> None:
        name = f"{episode.task}-{episode.seed}-{uuid.uuid4().hex[:8]}"
        episode.utterance = await utterance(page, self.site, episode.task, episode.seed)
        url = self.site.url(episode.task, episode.seed, name)
        request = request_for(url, episode.utterance)
        plan = await http.post("/v1/plan", json={"request": request})
        plan.raise_for_status()
        problem = routing_problem(plan.json(), url, episode.utterance)
        episode.routed = not problem
        if problem:
            episode.error = f"routing: {problem}"
        started = time.perf_counter()
        submitted = await http.post("/v1/tasks", json={"request": request})
        if submitted.status_code != 202:
            raise RuntimeError(f"submit answered {submitted.status_code}: {submitted.text[:300]}")
        episode.task_id = submitted.json()["task_id"]
        episode.status = await self._wait_end(episode.task_id)
        episode.seconds = time.perf_counter() - started
        record = (await http.get(f"/v1/tasks/{episode.task_id}")).json()
        self._read_record(episode, record)
        reward = await asyncio.to_thread(self.site.wait_reward, name, REWARD_GRACE_S)
        if reward is not None:
            episode.reward, episode.raw_reward, episode.reason = reward.reward, reward.raw_reward, reward.reason or ""

    async def _wait_end(self, task_id: str) -> str:
        from websockets.asyncio.client import connect

        url = f"ws://127.0.0.1:{self.system.gateway_port}/v1/tasks/{task_id}/events"
        try:
            async with asyncio.timeout(TASK_TIMEOUT_S):
                async with connect(url, additional_headers={"Authorization": f"Bearer {KEY}"}, open_timeout=10) as ws:
                    async for message in ws:
                        kind = json.loads(message).get("type")
                        if kind in TERMINAL:
                            return kind
        except TimeoutError:
            return "timeout"
        return "closed"

    @staticmethod
    def _read_record(episode: Episode, record: dict) -> None:
        steps = [state for state in (record.get("steps") or {}).values() if state.get("agent") == "browser"]
        if not steps:
            episode.error = episode.error or f"no browser step ({record.get('reason') or record.get('status')})"
            return
        state = steps[0]
        episode.step_status = state.get("status", "")
        if state.get("error") and not episode.error:
            episode.error = state["error"].get("message", "")[:300]
        output = ((state.get("result") or {}).get("output")) or {}
        episode.not_done = [f"{action.get('description')}: {action.get('reason')}"
                            for action in output.get("steps") or [] if action.get("status") == "not_done"]
        episode.actions = [f"{action.get('status')}: {action.get('description')}"
                           + (f" -> {action['target']}" if action.get("target") else "")
                           for action in output.get("steps") or []]


def episodes_for(quick: bool, splits: set[str]) -> list[Episode]:
    if quick:
        return ([Episode(task, 0, "dev") for task in ("click-test", "click-test-2", "enter-text-dynamic")]
                + [Episode(task, HELD_OUT_SEEDS[0], "held-out") for task in ("click-button", "enter-text")])
    chosen: list[Episode] = []
    if "dev" in splits:
        chosen += [Episode(task, seed, "dev") for task in DEV_TASKS for seed in DEV_SEEDS]
    if "held-out" in splits:
        chosen += [Episode(task, seed, "held-out") for task in HELD_OUT_TASKS for seed in HELD_OUT_SEEDS]
        chosen += [Episode(task, seed, "held-out-seeds") for task in DEV_TASKS for seed in HELD_OUT_SEEDS]
    return chosen


DATASETS = {
    "dev": ("MiniWoB++ dev tasks", "the issue's 30 development tasks x seeds 0-4"),
    "held-out": ("MiniWoB++ held-out tasks", "18 other tasks of the suite x seeds 1000-1004"),
    "held-out-seeds": ("MiniWoB++ dev tasks, new seeds", "the 30 development tasks x seeds 1000-1004"),
}


def summarise(split: str, episodes: list[Episode], seconds: float) -> EvalRow:
    count = len(episodes)
    successes = sum(episode.success for episode in episodes)
    false = sum(episode.false_completion for episode in episodes)
    times = [episode.seconds for episode in episodes if episode.seconds]
    median = statistics.median(times) if times else 0.0
    score = (f"success {successes / count:.2f} ({successes}/{count}), false completions {false / count:.0%}, "
             f"median {median:.2f} s")
    dataset, detail = DATASETS[split]
    unreported = sum(episode.false_failure for episode in episodes)
    misrouted = sum(not episode.routed for episode in episodes)
    detail += (f"; {false} false completions, {unreported} rewarded episodes whose step did not say completed, "
               f"{misrouted} mis-routed by the planner")
    return EvalRow("browser", dataset, count, score, seconds, split="dev" if split == "dev" else "held-out",
                   target="success >= 0.80, false completions 0%, median <= 1.5 s" if split == "dev"
                   else "false completions 0%", detail=detail)


def per_task(episodes: list[Episode]) -> str:
    by_task: dict[tuple[str, str], list[Episode]] = defaultdict(list)
    for episode in episodes:
        by_task[(episode.split, episode.task)].append(episode)
    lines = []
    for (split, task), runs in by_task.items():
        wins = sum(run.success for run in runs)
        false = sum(run.false_completion for run in runs)
        unreported = sum(run.false_failure for run in runs)
        lines.append(f"  {split:<14} {task:<26} {wins}/{len(runs)}" + (f"  FALSE COMPLETIONS {false}" if false else "")
                     + (f"  rewarded but not completed {unreported}" if unreported else ""))
    return "\n".join(lines)


def describe(episode: Episode) -> str:
    reward = "no reward" if episode.raw_reward is None else f"reward {episode.raw_reward:+.2f}"
    line = (f"  {'ok ' if episode.success else 'BAD'} {episode.split:<14} {episode.task}#{episode.seed}: "
            f"{episode.status or '-'} / step {episode.step_status or '-'}, {reward}, {episode.seconds:.2f} s"
            f"  [{episode.utterance}]")
    if not episode.success:
        why = episode.error or "; ".join(episode.not_done or []) or episode.reason
        if why:
            line += f"\n      {why[:400]}"
    return line


def evaluate(args) -> list[EvalRow]:
    quick = bool(getattr(args, "quick", False))
    concurrency = int(os.environ.get("AIORCH_EVAL_BROWSER_CONCURRENCY") or 2)
    splits = set((os.environ.get("AIORCH_EVAL_BROWSER_SPLITS") or "dev,held-out").replace(" ", "").split(","))
    episodes = episodes_for(quick, splits)
    out = REPO / "test-artifacts" / "evals" / "browser_miniwob.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aiorch-eval-browser-") as root, Harness(Path(root), concurrency) as harness:
        print(f"  system up in {time.perf_counter() - started:.1f} s; {len(episodes)} episodes, {concurrency} at once",
              file=sys.stderr, flush=True)
        with out.open("w") as sink:
            def done(episode: Episode) -> None:
                print(describe(episode), file=sys.stderr, flush=True)
                sink.write(json.dumps(asdict(episode)) + "\n")
                sink.flush()

            harness.run(episodes, done)
    elapsed = time.perf_counter() - started
    print("  per task (successes / episodes):\n" + per_task(episodes), file=sys.stderr, flush=True)
    rows = []
    for split in DATASETS:
        chosen = [episode for episode in episodes if episode.split == split]
        if chosen:
            share = elapsed * len(chosen) / len(episodes)
            rows.append(summarise(split, chosen, share))
            print(f"  {split}: {rows[-1].score}; {rows[-1].detail}", file=sys.stderr, flush=True)
    return rows
