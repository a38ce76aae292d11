"""aiorch's web UI. Run with `python -m aiorch.ui` (make run starts it on :8501)."""

from datetime import UTC, datetime

import streamlit as st

from aiorch.ui import views
from aiorch.ui.client import GatewayClient, GatewayDown, GatewayError
from aiorch.ui.config import UiSettings
from aiorch.ui.events import EventFollower
from aiorch.ui.progress import ICONS, fold, human_size, upload_problems

st.set_page_config(page_title="aiorch", page_icon="🧭", layout="wide")


@st.cache_resource
def settings() -> UiSettings:
    return UiSettings()


@st.cache_resource
def client() -> GatewayClient:
    return GatewayClient(settings().gateway_url, settings().api_key.get_secret_value())


def follower(task_id: str) -> EventFollower:
    """One event stream per browser session and task."""
    followers: dict = st.session_state.setdefault("followers", {})
    if task_id not in followers:
        followers[task_id] = EventFollower(settings().events_url, settings().api_key.get_secret_value(), task_id)
    return followers[task_id]


def open_task(task_id: str) -> None:
    st.session_state.task_id = task_id
    st.session_state.pop("plan_preview", None)


def gateway_down(problem: Exception) -> None:
    st.error(f"**The gateway is not reachable.** {problem}. Tasks cannot be sent or followed until it is back; "
             "this page retries on its own.", icon="🚫")


def sidebar() -> None:
    st.sidebar.header("Recent tasks")
    try:
        recent = client().tasks(limit=20)
    except (GatewayDown, GatewayError) as problem:
        st.sidebar.caption(f"Unavailable: {problem}")
        return
    if not recent:
        st.sidebar.caption("No tasks yet.")
    for task in recent:
        icon = {"completed": "✅", "failed": "❌", "cancelled": "🛑", "rejected": "⛔"}.get(task["status"], "🔄")
        label = f"{icon} {task['request'][:48] or '(files only)'}"
        st.sidebar.button(label, key=f"open-{task['task_id']}", on_click=open_task, args=(task["task_id"],),
                          help=f"{task['task_id']} · {task['status']}", width="stretch")


def compose(limits: dict) -> None:
    st.subheader("New task")
    with st.form("compose", clear_on_submit=False, border=True):
        request = st.text_area("Request", placeholder="e.g. clean this file, or: what is the sentiment of \"I love it\"?",
                               height=100, max_chars=limits["max_request_chars"])
        uploads = st.file_uploader(
            "Files", accept_multiple_files=True,
            help="The gateway checks each file's type from its content.",
        )
        kinds = ", ".join(limits["accepted_media_types"])
        st.caption(f"Accepted: {kinds} · up to {human_size(limits['max_upload_bytes'])} per file, "
                   f"{limits['max_files']} files")
        submit, preview = st.columns([1, 1])
        sent = submit.form_submit_button("Submit", type="primary", width="stretch")
        planned = preview.form_submit_button("Show plan", width="stretch")
    if not (sent or planned):
        return
    files = [(upload.name, upload.getvalue()) for upload in uploads or []]
    problems = upload_problems([(name, len(data)) for name, data in files], limits)
    if problems:
        for problem in problems:
            st.error(problem, icon="⚠️")
        return
    try:
        if planned:
            st.session_state.plan_preview = client().plan(request, files)
        else:
            accepted = client().submit(request, files)
            open_task(accepted["task_id"])
    except GatewayError as problem:
        st.error(f"Refused ({problem.status}): {problem.message}", icon="⚠️")
    except GatewayDown as problem:
        gateway_down(problem)


def plan_preview() -> None:
    plan = st.session_state.get("plan_preview")
    if not plan:
        return
    with st.container(border=True):
        st.markdown(f"**Plan** (dry run, {plan['planner']} planner) — nothing was run")
        if not plan["steps"]:
            st.info(plan.get("explanation") or "No step.")
        for step in plan["steps"]:
            after = f" after {', '.join(step['depends_on'])}" if step["depends_on"] else ""
            st.markdown(f"- `{step['id']}` **{step['agent']}**{after}: {step['instruction']}")


def task_view() -> None:
    task_id = st.session_state.get("task_id")
    if not task_id:
        return
    if task_id in st.session_state.setdefault("finished", set()):
        # Drawn once per page run: a redraw would replace the download buttons' links under the cursor.
        # The container mirrors the fragment's own, so the page swaps its elements in place.
        with st.container():
            draw_task(task_id)
    else:
        live_task_view()


@st.fragment(run_every=0.5)
def live_task_view() -> None:
    """Redrawn twice a second from the events received, without reloading the page."""
    task_id = st.session_state.get("task_id")
    if task_id and draw_task(task_id):
        # Redraw the whole page once: the history shows the outcome, and the polling stops.
        st.session_state.finished.add(task_id)
        st.rerun(scope="app")


def draw_task(task_id: str) -> bool:
    """Draws the task's steps (and its results once it has finished); says whether it has."""
    stream = follower(task_id)
    view = fold(stream.snapshot())
    now = datetime.now(UTC)
    with st.container(border=True):
        head, action = st.columns([5, 1])
        head.markdown(f"### Task `{task_id}` · **{view.status}**")
        if not view.finished:
            if action.button("Cancel", key=f"cancel-{task_id}", width="stretch"):
                try:
                    client().cancel(task_id)
                except (GatewayError, GatewayDown) as problem:
                    st.error(f"Cancel failed: {problem}")
        if stream.problem:
            st.warning(stream.problem, icon="📡")
        if view.planner:
            st.caption(f"Planned by the {view.planner} planner")
        for step in view.steps.values():
            seconds = step.seconds(now)
            timing = f" · {seconds:.1f} s" if seconds is not None else ""
            attempt = f" · attempt {step.attempt}" if step.attempt > 1 else ""
            st.markdown(f"{ICONS.get(step.status, '')} `{step.id}` **{step.agent}** — "
                        f"<span class='step-status'>{step.status}</span>{timing}{attempt}", unsafe_allow_html=True)
            if step.status == "running" and step.fraction is not None:
                st.progress(min(max(step.fraction, 0.0), 1.0))
            if step.messages and step.status == "running":
                st.caption(step.messages[-1])
            if step.error:
                st.error(f"{step.id} failed: {step.error}")
        if view.status in ("failed", "rejected", "cancelled") and view.reason:
            st.error(f"Task {view.status}: {view.reason}")
    if view.finished:
        results(task_id)
    return view.finished


def results(task_id: str) -> None:
    cache = st.session_state.setdefault("records", {})
    if task_id not in cache:
        try:
            cache[task_id] = client().task(task_id)
        except (GatewayError, GatewayDown) as problem:
            st.error(f"Results unavailable: {problem}")
            return
    record = cache[task_id]
    if record.get("answer"):
        st.markdown("#### Answer")
        st.markdown(record["answer"])
    for step in record.get("steps", {}).values():
        result = step.get("result") or {}
        # A failed step that still says what it did (the browser's checklist) is shown too.
        if result.get("status") == "completed" or result.get("output") or result.get("output_ref"):
            st.markdown(f"#### `{step['id']}` · {step['agent']}")
            views.result(step, task_id, client())


def main() -> None:
    st.title("aiorch")
    st.caption("Hand a request to aiorch's agents: sentiment of texts, cleaning of CSV files, "
               "web pages read in a browser, skin-lesion photos classified.")
    try:
        limits = client().limits()
    except GatewayDown as problem:
        gateway_down(problem)
        return
    except GatewayError as problem:
        st.error(f"The gateway refused this UI ({problem.status}): {problem.message}. Check AIORCH_UI_API_KEY.")
        return
    sidebar()
    left, right = st.columns([2, 3], gap="large")
    with left:
        compose(limits)
        plan_preview()
    with right:
        task_view()


main()
