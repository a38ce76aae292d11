import shutil
from pathlib import Path

from pydantic import Field

from aiorch.runtime.agent import AgentSettings
from aiorch.runtime.llm import OpenAISettings


def _chromium() -> Path:
    return Path(shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium")


class BrowserSettings(AgentSettings, OpenAISettings):
    """With OPENAI_API_KEY or OPENAI_BASE_URL, tasks go to browser-use's Agent (LLM mode) instead
    of the offline executor."""

    chromium_path: Path = Field(default_factory=_chromium)
    allowed_hosts: str = ""
    """Comma-separated hosts (or host:port) allowed although private or local, e.g. for tests."""
    max_pages: int = 10
    max_actions: int = 30
    task_timeout_s: float = 60.0
    navigation_timeout_s: float = 15.0

    def allowlist(self) -> frozenset[str]:
        return frozenset(host.strip().lower() for host in self.allowed_hosts.split(",") if host.strip())
