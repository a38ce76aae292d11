from aiorch.runtime.agent import AgentSettings
from aiorch.runtime.llm import OpenAISettings


class CsvSettings(AgentSettings, OpenAISettings):
    """OPENAI_API_KEY / OPENAI_BASE_URL / OPENAI_MODEL / AIORCH_OPENAI_TIMEOUT_S: see aiorch.runtime.llm."""

    max_in_memory_bytes: int = 64 * 1024 * 1024
    """Larger files are cleaned in chunks (streamed), with rules learned from a sample."""
    chunk_rows: int = 200_000
