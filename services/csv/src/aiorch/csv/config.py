from pydantic import AliasChoices, Field, SecretStr

from aiorch.runtime.agent import AgentSettings


class CsvSettings(AgentSettings):
    max_in_memory_bytes: int = 64 * 1024 * 1024
    """Larger files are cleaned in chunks (streamed), with rules learned from a sample."""
    chunk_rows: int = 200_000
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL"))
    openai_model: str = Field(default="gpt-4o-mini", validation_alias=AliasChoices("OPENAI_MODEL"))
    openai_timeout_s: float = 20.0
