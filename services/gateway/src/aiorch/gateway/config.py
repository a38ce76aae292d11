from typing import Self

from pydantic import SecretStr, model_validator

from aiorch.runtime.settings import ServiceSettings

MIN_KEY_LENGTH = 16


class GatewaySettings(ServiceSettings):
    api_keys: SecretStr
    """Comma-separated Bearer keys (AIORCH_API_KEYS); each at least 16 characters."""
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    """Base URL put in links (e.g. behind a proxy); default: the request's own."""
    max_upload_bytes: int = 25 * 1024 * 1024
    max_files: int = 10
    max_request_chars: int = 100_000
    plan_timeout_s: float = 10.0

    @model_validator(mode="after")
    def _strong_keys(self) -> Self:
        keys = self.keys()
        if not keys:
            raise ValueError("AIORCH_API_KEYS must name at least one key")
        weak = [key for key in keys if len(key) < MIN_KEY_LENGTH]
        if weak:
            raise ValueError(f"every API key needs at least {MIN_KEY_LENGTH} characters ({len(weak)} shorter)")
        return self

    def keys(self) -> list[str]:
        return [key.strip() for key in self.api_keys.get_secret_value().split(",") if key.strip()]
