"""A task's state as the UI shows it, folded from its events. Pure functions, no Streamlit."""

from dataclasses import dataclass, field
from datetime import datetime

from .events import TERMINAL

ICONS = {"pending": "⏳", "running": "🔄", "completed": "✅", "failed": "❌", "skipped": "⏭️", "cancelled": "🛑"}


@dataclass
class StepView:
    id: str
    agent: str
    instruction: str
    status: str = "pending"
    attempt: int = 0
    started: datetime | None = None
    ended: datetime | None = None
    messages: list[str] = field(default_factory=list)
    fraction: float | None = None
    error: str | None = None

    def seconds(self, now: datetime) -> float | None:
        if self.started is None:
            return None
        return ((self.ended or now) - self.started).total_seconds()


@dataclass
class TaskView:
    status: str = "submitted"
    steps: dict[str, StepView] = field(default_factory=dict)
    explanation: str | None = None
    planner: str | None = None
    reason: str | None = None
    answer: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


def fold(events: list[dict]) -> TaskView:
    view = TaskView()
    for event in events:
        kind, at = event["type"], _time(event.get("at"))
        step = view.steps.get(event.get("step_id") or "")
        if kind == "planned" and event.get("plan"):
            plan = event["plan"]
            view.planner, view.explanation = plan.get("planner"), plan.get("explanation")
            view.steps = {s["id"]: StepView(s["id"], s["agent"], s["instruction"]) for s in plan.get("steps", [])}
            view.status = "running" if view.steps else view.status
        elif kind == "step_started" and step:
            step.status, step.started, step.attempt = "running", at, event.get("attempt") or 1
        elif kind == "progress" and step:
            if event.get("message"):
                step.messages.append(event["message"])
            step.fraction = event.get("fraction", step.fraction)
            step.attempt = event.get("attempt") or step.attempt
        elif kind == "step_completed" and step:
            step.status, step.ended, step.fraction = "completed", at, 1.0
        elif kind == "step_failed" and step:
            step.status, step.ended = "failed", at
            step.error = (event.get("error") or {}).get("message") or event.get("message")
        elif kind in TERMINAL:
            view.status = kind
            view.reason = event.get("message")
            view.answer = event.get("answer")
            for other in view.steps.values():
                if other.status in ("pending", "running") and kind != "completed":
                    other.status = "cancelled" if kind == "cancelled" else "skipped"
                    other.ended = other.ended or at
    return view


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(size)


EXTENSIONS = {"text/csv": ["csv"], "text/tab-separated-values": ["tsv", "tab"], "text/plain": ["txt", "text", "md", "log"],
              "image/jpeg": ["jpg", "jpeg"], "image/png": ["png"], "image/webp": ["webp"],
              "image/heic": ["heic"], "image/heif": ["heif"]}


def upload_problems(files: list[tuple[str, int]], limits: dict) -> list[str]:
    """Why files would be refused, before sending them (the gateway checks again by content)."""
    problems = []
    allowed = {ext for media in limits["accepted_media_types"] for ext in EXTENSIONS.get(media, [])}
    if len(files) > limits["max_files"]:
        problems.append(f"{len(files)} files: at most {limits['max_files']} per task")
    for name, size in files:
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if size > limits["max_upload_bytes"]:
            problems.append(f"{name} is {human_size(size)}; the limit is {human_size(limits['max_upload_bytes'])} per file")
        if extension not in allowed:
            problems.append(f"{name}: .{extension or '?'} files are not accepted (accepted: {', '.join(sorted(allowed))})")
    return problems
