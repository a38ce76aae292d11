"""Wires step requests to the browser: plan the actions, run them, store what was read."""

import asyncio
import csv
import io
from collections.abc import Awaitable
from typing import TypeVar

from aiorch.contracts import BrowserAction, BrowserOutput, Link, StepRequested, TableData
from aiorch.runtime.agent import AgentService, StepContext, StepFailure, StepOutcome
from aiorch.runtime.logs import get_logger

from .agentspec import SPEC
from . import llm
from .actions import parse
from .config import BrowserSettings
from .errors import BrowseError
from .executor import BrowseResult, Limits, SharedBrowser, browse
from .policy import UrlPolicy

log = get_logger(__name__)
T = TypeVar("T")


class BrowserService(AgentService):
    name = "browser"
    spec = SPEC
    settings_class = BrowserSettings
    settings: BrowserSettings

    def setup(self) -> None:
        if not self.settings.chromium_path.exists():
            raise SystemExit(f"Chromium not found at {self.settings.chromium_path}: apt-get install chromium "
                             "(or set AIORCH_CHROMIUM_PATH)")
        self.policy = UrlPolicy(self.settings.allowlist())
        self.limits = Limits(self.settings.max_pages, self.settings.max_actions,
                             self.settings.navigation_timeout_s, self.settings.task_timeout_s)
        self.use_llm = self.settings.openai_configured
        if self.use_llm and not llm.available():
            raise SystemExit("an LLM is configured (OPENAI_API_KEY/OPENAI_BASE_URL) but browser-use is not installed: "
                             "pip install 'aiorch-browser[llm]'")

    async def on_start(self) -> None:
        self.browser = SharedBrowser(str(self.settings.chromium_path), self.policy, self.limits)
        await self.browser.start()

    async def on_stop(self) -> None:
        await self.browser.stop()

    async def handle(self, request: StepRequested, ctx: StepContext) -> StepOutcome:
        """Runs on the service's event loop, next to the shared Chromium; domain errors become failed steps."""
        try:
            output = await (self._with_llm(request, ctx) if self.use_llm else self._offline(request, ctx))
        except BrowseError as error:
            raise StepFailure(error.code, error.message, error.retryable) from None
        return StepOutcome(output=output, summary=summary(output))

    async def _with_llm(self, request: StepRequested, ctx: StepContext) -> BrowserOutput:
        ctx.progress(0.1, "the browser agent (LLM) is working")
        try:  # the offline plan, offered to the model as a first guess
            hint = [a.describe() for a in parse(request.instruction, request.params, self.settings.max_pages).actions]
        except Exception:  # noqa: BLE001 - a plan the parser cannot make is no reason not to try the LLM
            hint = []
        return await _bounded(llm.browse_with_llm(request.instruction, self.settings, self.policy, hint),
                              self.settings.task_timeout_s + 30)

    async def _offline(self, request: StepRequested, ctx: StepContext) -> BrowserOutput:
        plan = parse(request.instruction, request.params, self.settings.max_pages)
        ctx.progress(0.1, "; ".join(action.describe() for action in plan.actions))
        result = await _bounded(browse(self.browser, plan), self.settings.task_timeout_s + 15)
        # Artifacts go to the object store (S3 in deployments): off the loop.
        return await asyncio.to_thread(self._output, result, ctx)

    def _output(self, result: BrowseResult, ctx: StepContext) -> BrowserOutput:
        last = result.pages[-1]
        items: list[str] = []
        for page in result.pages:
            items += [item for item in page.items if item not in items]
        tables = []
        for number, table in enumerate((t for page in result.pages for t in page.tables if t["rows"]), 1):
            rows = table["rows"]
            buffer = io.StringIO()
            csv.writer(buffer).writerows(rows)
            ref = ctx.save_artifact(f"table-{number}.csv", buffer.getvalue().encode(), "text/csv")
            tables.append(TableData(caption=table["caption"], header=rows[0], rows=len(rows) - 1, file=ref))
        screenshot = ctx.save_artifact("screenshot.png", result.screenshot, "image/png") if result.screenshot else None
        return BrowserOutput(
            url=last.url, title=last.title, headings=last.headings, main_text=last.main_text, items=items,
            links=[Link(text=link["text"][:200], url=link["url"]) for link in last.links],
            tables=tables, actions=result.actions, pages_visited=len(result.pages), screenshot=screenshot,
            steps=[BrowserAction(kind=step.kind, description=step.description, status=step.status, reason=step.reason,
                                 target=step.target, candidates=step.candidates[:10]) for step in result.steps],
        )


async def _bounded(work: Awaitable[T], limit_s: float) -> T:
    """A last guard over the browser's own time limits: a hung browser fails the step, retryably."""
    try:
        async with asyncio.timeout(limit_s) as deadline:
            return await work
    except TimeoutError:
        if not deadline.expired():
            raise
        raise StepFailure("timeout", f"the browser did not finish within {limit_s:g}s", retryable=True) from None


def summary(output: BrowserOutput) -> str:
    lines = [f"**{output.title or output.url}** — {output.url}"]
    if output.items:
        lines.append(f"{len(output.items)} items extracted from {output.pages_visited} page(s), e.g.:")
        lines += [f"- {item[:150]}" for item in output.items[:5]]
    elif output.main_text:
        lines.append(output.main_text[:500] + ("…" if len(output.main_text) > 500 else ""))
    if output.tables:
        lines.append(f"{len(output.tables)} table(s) saved as CSV: " + ", ".join(t.file.name for t in output.tables))
    lines.append("Actions: " + "; ".join(output.actions) + ".")
    return "\n\n".join(lines)
