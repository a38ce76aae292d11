"""Runs browse actions in a fresh, isolated context of one shared Chromium."""

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from .errors import BrowseError
from .extract import EXTRACT, NEXT_LINK
from .perform import Performer, Step
from .plan import READ_KINDS, BrowsePlan
from .policy import Refused, UrlPolicy

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic", "--disable-extensions",
]


@dataclass
class Limits:
    max_pages: int = 10
    max_actions: int = 30
    navigation_timeout_s: float = 15.0
    task_timeout_s: float = 60.0


@dataclass
class PageRead:
    url: str
    title: str
    headings: list[str]
    main_text: str
    items: list[str]
    links: list[dict]
    tables: list[dict]


@dataclass
class BrowseResult:
    pages: list[PageRead] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    screenshot: bytes | None = None
    elapsed_s: float = 0.0
    steps: list[Step] = field(default_factory=list)
    """Every planned action with done / not_done / skipped and why."""
    dialogs: list[str] = field(default_factory=list)
    """Alerts and confirms the page opened (each was reported and dismissed)."""

    @property
    def not_done(self) -> list[Step]:
        return [step for step in self.steps if step.status == "not_done"]


@dataclass
class Session:
    """A fresh, isolated browser context (no profile, no cookies) with its page, for one task."""

    context: BrowserContext
    page: Page
    refusals: list[str]


class SharedBrowser:
    """One Chromium process for the service, launched once and reused by every task. The
    next task's context is opened ahead of time, so a task does not wait for it."""

    def __init__(self, executable: str, policy: UrlPolicy, limits: Limits) -> None:
        self.executable = executable
        self.policy = policy
        self.limits = limits
        self._playwright = None
        self.browser: Browser | None = None
        self._spare: asyncio.Task | None = None
        self._closing: set[asyncio.Task] = set()

    def _closed(self, task: asyncio.Task) -> None:
        self._closing.discard(task)
        if not task.cancelled():
            task.exception()  # a context that failed to close is gone with the browser anyway

    async def start(self) -> None:
        self._playwright = await async_playwright().start()
        self.browser = await self._playwright.chromium.launch(
            executable_path=self.executable, headless=True, args=CHROMIUM_ARGS)
        self._spare = asyncio.create_task(self._open())

    async def stop(self) -> None:
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        if self._spare:
            with contextlib.suppress(Exception):
                await (await self._spare).context.close()
        if self.browser:
            await self.browser.close()
        if self._playwright:
            await self._playwright.stop()

    async def session(self) -> Session:
        """The context opened ahead of time, or a new one if another task took it."""
        spare, self._spare = self._spare, None
        if spare is not None:
            with contextlib.suppress(Exception):
                return await spare
        return await self._open()

    async def release(self, session: Session) -> None:
        """Close a task's context in the background (the task's result need not wait for it), and open the
        next one while the service is idle."""
        closing = asyncio.create_task(session.context.close())
        self._closing.add(closing)
        closing.add_done_callback(self._closed)
        if self._spare is None and self.browser is not None and self.browser.is_connected():
            self._spare = asyncio.create_task(self._open())

    async def _open(self) -> Session:
        context = await self.browser.new_context(accept_downloads=False, service_workers="block",
                                                 viewport={"width": 1280, "height": 900})
        refusals: list[str] = []
        await context.route("**/*", _guard(self.policy, refusals, self.limits.navigation_timeout_s))
        page = await context.new_page()
        page.set_default_timeout(self.limits.navigation_timeout_s * 1000)
        return Session(context, page, refusals)


async def browse(shared: SharedBrowser, plan: BrowsePlan, limits: Limits | None = None) -> BrowseResult:
    limits = limits or shared.limits
    if len(plan.actions) > limits.max_actions:
        raise BrowseError("too_many_actions", f"{len(plan.actions)} actions; the limit is {limits.max_actions}")
    session = await shared.session()
    try:
        result = await asyncio.wait_for(_run(session, plan, limits), limits.task_timeout_s)
    except TimeoutError:
        raise BrowseError("timeout", f"the task took longer than {limits.task_timeout_s:g}s") from None
    finally:
        await shared.release(session)
    if result.not_done and not plan.read_only:
        raise failure(result)
    return result


def failure(result: BrowseResult) -> BrowseError:
    """The step fails naming the first action not done, its target and the closest candidates seen."""
    step = next((s for s in result.not_done if s.kind != "explore"), result.not_done[0])
    message = f"could not {step.description}: {step.reason}"
    if step.candidates:
        message += "; closest seen: " + ", ".join(step.candidates[:5])
    done = [s.description for s in result.steps if s.status == "done"]
    if done:
        message += ". Done before: " + "; ".join(done)
    error = BrowseError(step.code or "not_done", message)
    error.result = result  # the per-action outcomes, for whoever reports them
    return error


def _guard(policy: UrlPolicy, refusals: list[str], timeout_s: float):
    """Every request the page makes passes the URL policy, and so does every redirect: the
    guard fetches without following redirects and checks the Location before the browser
    may follow it."""
    checked: dict[str, str | None] = {}

    async def allowed(url: str) -> str | None:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in checked:
            try:
                await asyncio.to_thread(policy.check, url)
                checked[key] = None
            except Refused as refused:
                checked[key] = str(refused)
        return checked[key]

    async def guard(route) -> None:
        request = route.request
        if urlsplit(request.url).scheme in ("data", "blob") and not request.is_navigation_request():
            await route.continue_()
            return
        refusal = await allowed(request.url)
        if refusal is None and not request.is_navigation_request():
            await route.continue_()  # a subresource: its host passed; the page cannot read a foreign reply
            return
        if refusal is None:
            try:
                response = await route.fetch(max_redirects=0, timeout=timeout_s * 1000)
            except PlaywrightError as exc:  # pass the network error on as the browser would report it
                message = str(exc)
                code = next((code for marker, code in (("ENOTFOUND", "namenotresolved"), ("EAI_AGAIN", "namenotresolved"),
                             ("ECONNREFUSED", "connectionrefused"), ("imeout", "timedout")) if marker in message), "failed")
                await route.abort(code)
                return
            location = response.headers.get("location")
            if 300 <= response.status < 400 and location:
                refusal = await allowed(urljoin(request.url, location))
            if refusal is None:
                await route.fulfill(response=response)
                return
        if request.is_navigation_request():
            refusals.append(refusal)
        await route.abort("blockedbyclient")

    return guard


async def _run(session: Session, plan: BrowsePlan, limits: Limits) -> BrowseResult:
    started = time.perf_counter()
    result = BrowseResult()
    page, refusals = session.page, session.refusals
    page.set_default_timeout(limits.navigation_timeout_s * 1000)

    async def on_dialog(dialog) -> None:  # reported, and dismissed so that the page does not hang
        result.dialogs.append(f"{dialog.type}: {dialog.message[:200]}")
        with contextlib.suppress(PlaywrightError):
            await (dialog.accept() if dialog.type == "alert" else dialog.dismiss())

    page.on("dialog", on_dialog)
    performer = Performer(page, plan.instruction)
    failed = False
    folded: Step | None = None  # "switch between the tabs to find ...": carried out by the next action
    for index, action in enumerate(plan.actions):
        if failed and action.kind not in ("screenshot",):
            result.steps.append(Step(action.kind, action.describe(), "skipped", "an earlier action was not done"))
            continue
        if action.kind == "explore" and any(a.kind not in READ_KINDS for a in plan.actions[index + 1:]):
            folded = Step(action.kind, action.describe(), "not_done", code="not_done",
                          reason="the action it leads to was not done")
            result.steps.append(folded)
            continue
        if action.kind not in ("open", "wait", "next_pages", "screenshot"):
            seen = len(result.dialogs)
            step = await performer.perform(action)
            if len(result.dialogs) > seen:
                step.reason = "; ".join(filter(None, [step.reason, "the page opened a dialog, dismissed: "
                                                      + " | ".join(result.dialogs[seen:])]))
            result.steps.append(step)
            if folded is not None:  # done exactly when the action it leads to was done
                if step.status == "done":
                    opened = [n for n in step.reason.split("; ") if n.startswith("opened ")]
                    folded.status, folded.code = "done", ""
                    folded.reason = (", ".join(opened) if opened else "the target was already shown") \
                        + f" (to {step.description})"
                    result.actions.append(folded.description)
                folded = None
            if step.status == "done":
                result.actions.append(action.describe())
            failed = step.status == "not_done"
            continue
        if action.kind == "screenshot" and not failed and _ends_with_input(plan):
            step = await performer.submit_if_expected()
            if step is not None:
                result.steps.append(step)
                result.actions.append(step.description)
        if action.kind == "open":
            await _goto(page, action.target, refusals)
        elif action.kind == "wait" and not action.target:
            await asyncio.sleep(min(float(action.value or 0), limits.task_timeout_s / 2))
        elif action.kind == "wait":
            try:
                await page.get_by_text(action.target).first.wait_for(timeout=limits.navigation_timeout_s * 1000)
            except PlaywrightTimeout:
                raise BrowseError("timeout", f"'{action.target}' did not appear within {limits.navigation_timeout_s:g}s") from None
        elif action.kind == "next_pages":
            await _follow_next(page, plan, int(action.target), result, refusals, limits)
        elif action.kind == "screenshot":
            if not result.pages or result.pages[-1].url != page.url:
                result.pages.append(await _read(page, plan))
            result.screenshot = await _screenshot(page)
        result.actions.append(action.describe())
        result.steps.append(Step(action.kind, action.describe(), "done", target=page.url if action.kind == "open" else ""))
    result.elapsed_s = time.perf_counter() - started
    return result


def _ends_with_input(plan: BrowsePlan) -> bool:
    """The instruction's last action put a value into a form and nothing sends it."""
    acting = [a for a in plan.actions if a.kind not in ("open", "wait", "next_pages", "screenshot", "find", "copy", "explore")]
    return bool(acting) and acting[-1].kind in ("fill", "check", "uncheck", "select", "set")


MAX_SCREENSHOT_HEIGHT = 8000
"""Full-page screenshots stop here: a page hundreds of thousands of pixels tall can crash the renderer."""


async def _screenshot(page: Page) -> bytes:
    try:
        height = await page.evaluate("document.documentElement.scrollHeight")
        if height <= MAX_SCREENSHOT_HEIGHT:
            return await page.screenshot(full_page=True, type="png")
        # A full-page capture, even clipped, makes Chromium lay out and raster the whole document
        # beyond the viewport (seconds for a 800,000 px page, past the timeout). A viewport as tall
        # as the bound captures the top of the page without that.
        viewport = page.viewport_size or {"width": 1280, "height": 900}
        await page.set_viewport_size({"width": viewport["width"], "height": MAX_SCREENSHOT_HEIGHT})
        try:
            await page.evaluate("window.scrollTo(0, 0)")
            return await page.screenshot(type="png")
        finally:
            await page.set_viewport_size(viewport)
    except PlaywrightError:  # the visible part will do
        return await page.screenshot(type="png")


async def _goto(page: Page, url: str, refusals: list[str]) -> None:
    try:
        response = await page.goto(url, wait_until="load")
    except PlaywrightTimeout:
        raise BrowseError("timeout", f"{url} did not finish loading within the time limit") from None
    except PlaywrightError as exc:
        if refusals:
            raise BrowseError("refused_url", refusals[-1]) from None
        message = str(exc).splitlines()[0]
        reasons = {"ERR_NAME_NOT_RESOLVED": "the host name does not resolve", "ERR_CONNECTION_REFUSED":
                   "the connection was refused", "ERR_ADDRESS_UNREACHABLE": "the address is unreachable",
                   "ERR_CONNECTION_TIMED_OUT": "the connection timed out", "ERR_INVALID_URL": "the address is invalid"}
        reason = next((text for code, text in reasons.items() if code in message), message)
        raise BrowseError("unreachable", f"cannot open {url}: {reason}") from None
    if refusals:  # a redirect to a forbidden address
        raise BrowseError("refused_url", refusals[-1])
    if response is not None and response.status >= 400:
        raise BrowseError("http_error", f"{url} answered HTTP {response.status}")


async def _follow_next(page: Page, plan: BrowsePlan, pages: int, result: BrowseResult, refusals, limits) -> None:
    for _ in range(max(pages - 1, 0)):
        result.pages.append(await _read(page, plan))
        following = await page.evaluate(NEXT_LINK)
        if not following or len(result.pages) >= limits.max_pages:
            break
        await _goto(page, following, refusals)


async def _read(page: Page, plan: BrowsePlan) -> PageRead:
    data = await page.evaluate(EXTRACT, sorted(plan.wants))
    return PageRead(url=page.url, title=data["title"], headings=data["headings"], main_text=data["mainText"],
                    items=data["items"], links=data["links"], tables=data["tables"])
