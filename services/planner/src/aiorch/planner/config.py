from typing import Literal

from pydantic import AliasChoices, Field, SecretStr

from aiorch.runtime.settings import ServiceSettings


class PlannerSettings(ServiceSettings):
    planner_backend: Literal["auto", "offline", "openai"] = "auto"
    """auto: OpenAI when OPENAI_API_KEY is set, else offline."""
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL"))
    openai_model: str = Field(default="gpt-4o-mini", validation_alias=AliasChoices("OPENAI_MODEL"))
    planner_timeout_s: float = 10.0
    planner_retries: int = 1
    planner_max_tokens: int = Field(default=800, ge=64)
    """Caps the model's answer: a small model can otherwise ramble until the context is full."""

    step_timeout_s: float = Field(default=300.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    retry_backoff_s: float = Field(default=0.5, ge=0)
    concurrency: int = Field(default=64, ge=1)
    sweep_interval_s: float = Field(default=30.0, gt=0)
    """How often to look for in-flight tasks whose planner died (and at start)."""
