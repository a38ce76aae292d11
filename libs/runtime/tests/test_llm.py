"""The shared OpenAI settings and the "LLM if configured, else offline" fallback."""

import asyncio

import pytest

from aiorch.runtime.agent import AgentSettings
from aiorch.runtime.llm import NO_KEY, OpenAISettings, allm_or_offline, llm_or_offline


class Settings(AgentSettings, OpenAISettings):
    pass


def test_the_openai_sdk_names_configure_every_service(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_MODEL", "local-model")
    monkeypatch.setenv("AIORCH_OPENAI_TIMEOUT_S", "3.5")
    settings = Settings()
    assert settings.openai_configured and settings.openai_key() == "sk-test"
    assert settings.openai_args() == {"api_key": "sk-test", "base_url": "http://127.0.0.1:9/v1",
                                      "model": "local-model", "timeout_s": 3.5}
    assert "sk-test" not in repr(settings)


def test_mixing_in_keeps_the_services_prefix_and_env_file(monkeypatch):
    monkeypatch.setenv("AIORCH_NATS_URL", "nats://10.0.0.1:4222")
    assert Settings.model_config["env_prefix"] == "AIORCH_" and Settings.model_config["env_file"] == ".env"
    assert Settings().nats_url == "nats://10.0.0.1:4222"


def test_empty_variables_are_unset_and_a_base_url_alone_is_enough(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "")  # as Compose writes ${OPENAI_API_KEY:-}
    monkeypatch.setenv("OPENAI_BASE_URL", " ")
    monkeypatch.setenv("OPENAI_MODEL", "")
    settings = Settings()
    assert not settings.openai_configured and settings.openai_model == "gpt-4o-mini"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    keyless = Settings()
    assert keyless.openai_configured and keyless.openai_key() == NO_KEY


def test_the_llm_answers_when_configured_and_the_offline_path_otherwise_or_on_error():
    assert llm_or_offline(lambda: "llm", lambda: "offline", what="t").value == "llm"
    unconfigured = llm_or_offline(None, lambda: "offline", what="t")
    assert (unconfigured.value, unconfigured.by_llm, unconfigured.fallback_reason) == ("offline", False, None)

    def broken():
        raise ConnectionError("refused")

    fallen = llm_or_offline(broken, lambda: "offline", what="t")
    assert (fallen.value, fallen.by_llm, fallen.fallback_reason) == ("offline", False, "ConnectionError: refused")
    with pytest.raises(ValueError):  # the offline path is the last word
        llm_or_offline(broken, lambda: int("x"), what="t")


async def test_the_async_fallback_bounds_the_llm_in_time():
    async def slow():
        await asyncio.sleep(5)
        return "llm"

    async def fast():
        return "llm"

    answer = await allm_or_offline(slow, lambda: "offline", what="t", timeout_s=0.05)
    assert (answer.value, answer.fallback_reason) == ("offline", "TimeoutError: no answer within 0.05s")
    assert (await allm_or_offline(fast, lambda: "offline", what="t")).by_llm

    async def offline():
        return "offline"

    assert (await allm_or_offline(None, offline, what="t")).value == "offline"
