from typing import Literal

from pydantic import Field

from aiorch.runtime.llm import OpenAISettings
from aiorch.runtime.settings import ServiceSettings


class PlannerSettings(ServiceSettings, OpenAISettings):
    planner_backend: Literal["auto", "offline", "openai"] = "auto"
    """auto: OpenAI when OPENAI_API_KEY or OPENAI_BASE_URL is set, else offline."""
    planner_timeout_s: float = 10.0
    """Per request to the model (the whole answer, retries included, gets `retries + 1` times it)."""
    planner_retries: int = 1
    planner_max_tokens: int = Field(default=800, ge=64)
    """Caps the model's answer: a small model can otherwise ramble until the context is full."""

    step_timeout_s: float = Field(default=300.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    retry_backoff_s: float = Field(default=0.5, ge=0)
    concurrency: int = Field(default=64, ge=1)
    sweep_interval_s: float = Field(default=30.0, gt=0)
    """How often to look for in-flight tasks whose planner died (and at start)."""
    never_submitted_after_s: float = Field(default=120.0, gt=0)
    """A task this planner has seen `submitted` for this long, once every submission before
    it has been taken, never will be planned (its gateway stopped between record and
    submission): it fails."""
