"""Settings base: environment variables (prefix `AIORCH_`) and `.env`, checked at start."""

import sys
from pathlib import Path
from typing import Literal, Self, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

UNSAFE_SECRETS = {"minioadmin", "changeme", "password", "secret"}
NATS_SCHEMES = {"nats", "tls", "ws", "wss"}


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIORCH_", env_file=".env", extra="ignore")

    env: Literal["dev", "prod"] = "dev"
    nats_url: str = "nats://127.0.0.1:4222"
    """One server, or several separated by commas (the seeds of a cluster: the client also
    learns the others from the server it reaches, and reconnects to any of them)."""
    nats_replicas: int = Field(1, ge=1, le=5)
    """Replicas of every stream and KV bucket the planner provisions: 1 on one server, 3 on
    a cluster of three or more (a write then needs a majority, and survives one node down)."""
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_creds_file: Path | None = None
    nats_tls_ca_file: Path | None = None

    storage_backend: Literal["local", "s3"] = "local"
    storage_path: Path = Path(".data/objects")
    s3_endpoint: str | None = None
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "aiorch"
    s3_secure: bool = True
    s3_region: str | None = None

    log_level: str = "INFO"
    log_json: bool = True
    health_host: str = "127.0.0.1"
    health_port: int = 0
    """Port of /healthz, /readyz and /metrics; 0 picks a free one."""
    drain_timeout_s: float = 30.0
    registry_grace_s: float = Field(30.0, ge=0)
    """How long an agent whose last instance stopped (a restart, a rolling update) or went
    silent (a crash, a bus that could not store its heartbeats) is still planned for: its
    steps wait in the work queue for the next instance. 0: gone at once."""

    @field_validator("nats_url")
    @classmethod
    def _nats_urls(cls, value: str) -> str:
        servers = [url.strip() for url in value.split(",") if url.strip()]
        if not servers:
            raise ValueError("needs at least one server, e.g. nats://127.0.0.1:4222")
        for url in servers:
            scheme, _, rest = url.partition("://")
            if not rest or scheme not in NATS_SCHEMES or not rest.strip("/"):
                shown = f"{scheme}://{rest.rpartition('@')[2]}" if rest else url  # never echo a password
                raise ValueError(f"{shown!r} is not a NATS server URL (nats://host:port, tls://, ws:// or wss://)")
        return ",".join(servers)

    @property
    def nats_servers(self) -> list[str]:
        """The server URLs of `nats_url`, in order."""
        return self.nats_url.split(",")

    @model_validator(mode="after")
    def _safe(self) -> Self:
        if self.storage_backend == "s3":
            missing = [
                name for name in ("s3_endpoint", "s3_access_key", "s3_secret_key") if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"storage_backend=s3 needs {', '.join('AIORCH_' + m.upper() for m in missing)}")
            if self.env == "prod" and self.s3_secret_key.get_secret_value() in UNSAFE_SECRETS:
                raise ValueError("AIORCH_S3_SECRET_KEY is a well-known default; set a real secret")
        if self.env == "prod" and not (self.nats_user or self.nats_creds_file):
            raise ValueError("AIORCH_ENV=prod needs NATS credentials (AIORCH_NATS_USER or AIORCH_NATS_CREDS_FILE)")
        return self


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S]) -> S:
    """Build settings or exit with a message naming each bad variable (no traceback)."""
    try:
        return cls()
    except ValidationError as exc:
        prefix = cls.model_config.get("env_prefix", "")
        lines = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            name = f"{prefix}{where}".upper() if error["loc"] else "settings"
            lines.append(f"  {name}: {error['msg']}")
        print(f"{cls.__name__}: invalid configuration\n" + "\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None
