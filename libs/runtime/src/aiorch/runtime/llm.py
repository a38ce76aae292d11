"""One OpenAI(-compatible) configuration for every service, and one "LLM if configured,
else offline" fallback.

A service's settings mix in `OpenAISettings`:

    class CsvSettings(AgentSettings, OpenAISettings): ...

and read `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL` (the names the openai SDK
uses, without the `AIORCH_` prefix) and `AIORCH_OPENAI_TIMEOUT_S`. An empty variable (as
Compose writes `${OPENAI_API_KEY:-}`) counts as unset. A key or a base URL configures the
LLM: a local OpenAI-compatible server needs no key.

`llm_or_offline` (and `allm_or_offline` for coroutines) asks the LLM when one is
configured and lets the offline path answer when it is not, or when the LLM raises or
times out; the answer says which path answered and why the LLM did not.
"""

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator

from .logs import get_logger

log = get_logger(__name__)
T = TypeVar("T")
NO_KEY = "not-needed"
"""The key sent to a server configured by base URL alone (the openai SDK insists on one)."""


class OpenAISettings(BaseModel):
    """Fields mixed into a service's settings class (a plain model: its configuration, the
    `AIORCH_` prefix and `.env`, is the service's)."""

    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("OPENAI_BASE_URL"))
    openai_model: str = Field(default="gpt-4o-mini", validation_alias=AliasChoices("OPENAI_MODEL"))
    openai_timeout_s: float = Field(default=20.0, gt=0)
    """Per request; the OpenAI path gives up after it and the offline path answers."""

    @field_validator("openai_api_key", "openai_base_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, SecretStr) and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("openai_model", mode="before")
    @classmethod
    def _blank_model_is_default(cls, value: object) -> object:
        return "gpt-4o-mini" if isinstance(value, str) and not value.strip() else value

    @property
    def openai_configured(self) -> bool:
        """True when a key or a base URL is set: the LLM path is worth trying."""
        return self.openai_api_key is not None or self.openai_base_url is not None

    def openai_key(self) -> str:
        """The key to hand to the client (a placeholder for a keyless local server)."""
        return self.openai_api_key.get_secret_value() if self.openai_api_key is not None else NO_KEY

    def openai_args(self) -> dict:
        """Keyword arguments for an agent's OpenAI adapter, which takes plain values (its domain
        code imports no runtime): `OpenAISentiment(**settings.openai_args())`."""
        return {"api_key": self.openai_key(), "base_url": self.openai_base_url, "model": self.openai_model,
                "timeout_s": self.openai_timeout_s}


@dataclass(frozen=True)
class Answer(Generic[T]):
    value: T
    by_llm: bool
    """True when the LLM answered, False when the offline path did."""
    fallback_reason: str | None = None
    """Why the offline path answered although an LLM is configured (its error), else None."""


def _reason(exc: BaseException) -> str:
    message = str(exc)[:300]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def llm_or_offline(llm: Callable[[], T] | None, offline: Callable[[], T], *, what: str) -> Answer[T]:
    """`llm()` when an LLM is configured (`llm` is not None), else or on any error `offline()`.

    Errors of `offline()` propagate: it is the last word.
    """
    if llm is not None:
        try:
            return Answer(llm(), by_llm=True)
        except Exception as exc:  # an HTTP error, a timeout, an invalid answer: the offline path answers
            reason = _reason(exc)
            log.warning("LLM failed, answering offline", what=what, error=reason)
            return Answer(offline(), by_llm=False, fallback_reason=reason)
    return Answer(offline(), by_llm=False)


async def allm_or_offline(
    llm: Callable[[], Awaitable[T]] | None,
    offline: Callable[[], Awaitable[T] | T],
    *,
    what: str,
    timeout_s: float | None = None,
) -> Answer[T]:
    """The async `llm_or_offline`; `timeout_s` bounds the LLM's whole answer (retries included)."""

    async def fallback() -> T:
        value = offline()
        return await value if inspect.isawaitable(value) else value

    if llm is not None:
        try:
            return Answer(await asyncio.wait_for(llm(), timeout_s), by_llm=True)
        except Exception as exc:
            timed_out = isinstance(exc, TimeoutError) and timeout_s is not None
            reason = f"TimeoutError: no answer within {timeout_s:g}s" if timed_out else _reason(exc)
            log.warning("LLM failed, answering offline", what=what, error=reason)
            return Answer(await fallback(), by_llm=False, fallback_reason=reason)
    return Answer(await fallback(), by_llm=False)
