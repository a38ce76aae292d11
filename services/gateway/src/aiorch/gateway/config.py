from pathlib import Path
from typing import Self

from pydantic import SecretStr, model_validator

from aiorch.runtime.retention import parse_duration
from aiorch.runtime.settings import ServiceSettings

from .principals import MIN_KEY_LENGTH, Principals, parse_keys_file


class GatewaySettings(ServiceSettings):
    api_keys: SecretStr | None = None
    """Comma-separated Bearer keys (AIORCH_API_KEYS); each at least 16 characters and its own
    principal (`key-<first 8 hex digits of its SHA-256>`) with the scopes submit and read."""
    api_keys_file: Path | None = None
    """Principals, one a line: `name scopes sha256 [retention=7d]` (AIORCH_API_KEYS_FILE);
    re-read when it changes, so a removed line revokes its key at once."""
    retention: str = "7d"
    """How long a task and its files are kept after its last change (AIORCH_RETENTION)."""
    retention_sweep_s: float = 300.0
    """How often expired tasks are looked for."""
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
        if not keys and self.api_keys_file is None:
            raise ValueError("set AIORCH_API_KEYS (at least one key) or AIORCH_API_KEYS_FILE")
        weak = [key for key in keys if len(key) < MIN_KEY_LENGTH]
        if weak:
            raise ValueError(f"every API key needs at least {MIN_KEY_LENGTH} characters ({len(weak)} shorter)")
        if self.api_keys_file is not None:
            parse_keys_file(self.api_keys_file)  # refuses to start on a malformed file, naming the line
        parse_duration(self.retention)
        return self

    def keys(self) -> list[str]:
        if self.api_keys is None:
            return []
        return [key.strip() for key in self.api_keys.get_secret_value().split(",") if key.strip()]

    def retention_s(self) -> float:
        return parse_duration(self.retention)

    def principals(self) -> Principals:
        return Principals(self.keys(), self.api_keys_file, self.retention_s())
