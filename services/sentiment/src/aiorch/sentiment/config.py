import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr

from aiorch.runtime.agent import AgentSettings


class SentimentSettings(AgentSettings):
    nltk_data: Path = Path(".data/nltk_data")
    emotions: bool = True
    """NRC emotion lexicon (research use only, see README); turn off with AIORCH_EMOTIONS=false."""
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    """Processes that score large batches; 1 scores everything in the service process."""
    sentiment_mode: Literal["auto", "vader", "openai"] = "auto"
    """auto: OpenAI when a key is configured, else VADER."""
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL"))
    openai_model: str = Field(default="gpt-4o-mini", validation_alias=AliasChoices("OPENAI_MODEL"))
    openai_timeout_s: float = 20.0
