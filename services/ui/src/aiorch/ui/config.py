from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class UiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIORCH_UI_", env_file=".env", extra="ignore")

    gateway_url: str = "http://127.0.0.1:8000"
    api_key: SecretStr
    """A gateway API key (one of the gateway's AIORCH_API_KEYS)."""
    host: str = "127.0.0.1"
    port: int = 8501
    refresh_s: float = 0.5
    """How often the task view redraws from the events received."""

    @property
    def events_url(self) -> str:
        return "ws" + self.gateway_url[4:] if self.gateway_url.startswith("http") else self.gateway_url
