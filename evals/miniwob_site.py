"""MiniWoB++ task pages (from the `miniwob` package on PyPI, MIT) served on loopback, so the
browser agent can be scored on pages nobody here wrote.

`/miniwob/<task>.html?seed=S&episode=E` starts the episode on load with MiniWoB's own seeded
random generator, and reports the page's own reward to the server when the episode ends
(`/__reward?episode=E`). The harness reads the utterance (the instruction) from a copy of the
same page and seed, hands it to the agent, and reads the reward the agent's page reported.
"""

import importlib.util
import json
import re
import threading
import time
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DEV_TASKS = [
    "click-test", "click-test-2", "click-widget", "click-dialog-2", "click-tab-2-easy", "click-tab-2",
    "click-checkboxes-large", "click-checkboxes-soft", "click-checkboxes-transfer", "click-collapsible-2",
    "click-menu", "click-scroll-list", "enter-text-dynamic", "enter-date", "enter-time", "focus-text-2",
    "login-user-popup", "form-sequence-2", "form-sequence-3", "navigate-tree", "use-spinner", "use-slider",
    "choose-date-easy", "multi-orderings", "multi-layouts", "social-media", "read-table", "find-word",
    "text-transform", "copy-paste",
]
"""The issue's development tasks: develop and tune on these (seeds DEV_SEEDS) only."""
DEV_SEEDS = range(5)

HELD_OUT_TASKS = [
    "click-button", "click-link", "click-option", "click-checkboxes", "click-tab", "click-collapsible",
    "click-dialog", "choose-list", "enter-text", "enter-text-2", "enter-password", "focus-text", "login-user",
    "click-button-sequence", "use-autocomplete", "form-sequence", "click-menu-2", "read-table-2",
]
"""Kept aside until the end: other tasks of the suite (and HELD_OUT_SEEDS on the development tasks)."""
HELD_OUT_SEEDS = range(1000, 1005)

EPISODE_MS = 60_000
"""MiniWoB's own limit is 10 s, made for a policy that acts at once; the agent's plan, page load and
settling fit easily in 60 s, and a time-out still scores -1."""

_HOOK = """<script>
(function () {
  var query = new URLSearchParams(location.search);
  var seed = query.get('seed'), episode = query.get('episode');
  core.EPISODE_MAX_TIME = %(episode_ms)d;
  var end = core.endEpisode;
  core.endEpisode = function (reward, timeProportional, reason) {
    var running = core.EP_TIMER !== null;
    end.apply(this, arguments);
    if (running && episode) {
      navigator.sendBeacon('/__reward?episode=' + encodeURIComponent(episode), JSON.stringify(
        {reward: WOB_REWARD_GLOBAL, raw_reward: WOB_RAW_REWARD_GLOBAL, reason: WOB_REWARD_REASON}));
    }
  };
  window.addEventListener('load', function () {
    if (seed !== null) Math.seedrandom(seed);
    core.startEpisodeReal();
  });
})();
</script>
"""


def html_root() -> Path:
    """The task pages inside the installed `miniwob` package (found without importing it: the package's
    own imports need gymnasium and selenium, which the harness does not use)."""
    spec = importlib.util.find_spec("miniwob")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'miniwob' package is not installed (make setup installs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "html"


@dataclass
class Reward:
    reward: float
    raw_reward: float
    reason: str | None

    @property
    def success(self) -> bool:
        return self.raw_reward > 0


class MiniWobSite:
    """The task pages with the episode hook, on a free loopback port, in a background thread."""

    def __init__(self, episode_ms: int = EPISODE_MS) -> None:
        self.root = html_root()
        self.episode_ms = episode_ms
        self.rewards: dict[str, Reward] = {}
        self._arrived = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, self, directory=str(self.root)))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def url(self, task: str, seed: int, episode: str = "") -> str:
        if not (self.root / "miniwob" / f"{task}.html").is_file():
            raise ValueError(f"no MiniWoB task '{task}'")
        return f"http://{self.host}/miniwob/{task}.html?seed={seed}" + (f"&episode={episode}" if episode else "")

    def wait_reward(self, episode: str, timeout_s: float) -> Reward | None:
        """The reward the page reported for this episode, or None if it reported none in time."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while episode not in self.rewards:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._arrived.wait(left)
            return self.rewards[episode]

    def _record(self, episode: str, body: bytes) -> None:
        data = json.loads(body or b"{}")
        with self._arrived:
            self.rewards.setdefault(episode, Reward(float(data.get("reward") or 0), float(data.get("raw_reward") or 0),
                                                    data.get("reason")))
            self._arrived.notify_all()

    def __enter__(self) -> "MiniWobSite":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, site: MiniWobSite, *args, **kwargs) -> None:
        self.site = site
        super().__init__(*args, **kwargs)

    def log_message(self, *args) -> None:  # quiet: the harness reports per episode
        pass

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        episode = parse_qs(parts.query).get("episode", [""])[0]
        if parts.path != "/__reward" or not episode:
            self.send_error(404)
            return
        self.site._record(episode, self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.send_response(204)
        self.end_headers()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if not re.fullmatch(r"/miniwob/[\w-]+\.html", path):
            super().do_GET()
            return
        file = self.site.root / path.lstrip("/")
        if not file.is_file():
            self.send_error(404)
            return
        page = file.read_text(encoding="utf-8")
        hook = _HOOK % {"episode_ms": self.site.episode_ms}
        page = page.replace("</head>", hook + "</head>", 1) if "</head>" in page else hook + page
        body = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


async def utterance(page, site: MiniWobSite, task: str, seed: int) -> str:
    """The task's instruction for this seed, read from a copy of the page (a Playwright page of the harness's
    own, not the agent's). The same seed generates the same problem."""
    await page.goto(site.url(task, seed))
    await page.wait_for_function("document.getElementById('query') && core.getUtterance().length > 0")
    return await page.evaluate("core.getUtterance()")
