import os
from pathlib import Path
from typing import Literal

from pydantic import Field

from aiorch.runtime.agent import AgentSettings
from aiorch.runtime.llm import OpenAISettings


class SentimentSettings(AgentSettings, OpenAISettings):
    nltk_data: Path = Path(".data/nltk_data")
    emotions: bool = True
    """NRC emotion lexicon (research use only, see README); turn off with AIORCH_EMOTIONS=false."""
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    """Processes that score large batches; 1 scores everything in the service process."""
    sentiment_mode: Literal["auto", "vader", "openai"] = "auto"
    """auto: OpenAI when OPENAI_API_KEY or OPENAI_BASE_URL is set, else VADER."""
