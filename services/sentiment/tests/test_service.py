"""The sentiment service on a real nats-server: files from the store, OpenAI mode
through the real `openai` client against a local OpenAI-compatible server."""

import json

import pytest

from aiorch.contracts import StepRequested, subjects
from aiorch.runtime.testing import FakeOpenAI, StepResults
from aiorch.sentiment.app import SentimentService
from aiorch.sentiment.config import SentimentSettings

pytestmark = pytest.mark.nats


async def start_service(nats_server, tmp_path, **overrides) -> SentimentService:
    settings = SentimentSettings(
        nats_url=nats_server.url, storage_path=tmp_path / "objects", nltk_data=tmp_path / "nltk", log_json=False,
        **overrides,
    )
    service = SentimentService(settings)
    await service.start()
    return service


async def run_step(bus, results, request: StepRequested):
    await bus.publish(subjects.agent_requests("sentiment"), request)
    return await results.next(timeout=20)


async def test_a_csv_column_from_the_object_store(nats_server, bus, tmp_path):
    service = await start_service(nats_server, tmp_path)
    try:
        results = await StepResults(bus).start()
        ref = service.store.put("uploads/t_1/r.csv", "r.csv", b"id,review\n1,Superb service\n2,Rude and slow\n", "text/csv")
        request = StepRequested(task_id="t_1", step_id="s1", attempt=1, agent="sentiment",
                                instruction="mood of the review column", files=[ref])
        result = await run_step(bus, results, request)
        assert result.status == "completed"
        assert [item.label for item in result.output.items] == ["positive", "negative"]
        assert "Column `review`" in result.summary
        # A table of one row still gets its table of results back.
        one = service.store.put("uploads/t_2/r.csv", "r.csv", b"id,review\n1,Superb service\n", "text/csv")
        result = await run_step(bus, results, request.model_copy(update={"task_id": "t_2", "files": [one]}))
        assert result.status == "completed" and [ref.name for ref in result.artifacts] == ["sentiment.csv"]
        table = service.store.get(result.artifacts[0].key).decode().splitlines()
        assert len(table) == 2 and "Superb service" in table[1]
    finally:
        await service.stop()


async def test_each_text_in_params_gets_its_own_result(nats_server, bus, tmp_path):
    service = await start_service(nats_server, tmp_path, workers=1)
    try:
        results = await StepResults(bus).start()
        instruction = 'What is the sentiment of "I love this phone" and "the battery is awful"?'
        request = StepRequested(task_id="t_1", step_id="s1", attempt=1, agent="sentiment", instruction=instruction,
                                params={"texts": ["I love this phone", "the battery is awful"]})
        result = await run_step(bus, results, request)
        assert result.status == "completed"
        assert [(item.text, item.label) for item in result.output.items] == [
            ("I love this phone", "positive"), ("the battery is awful", "negative")]
        assert "| I love this phone | positive |" in result.summary and "| the battery is awful | negative |" in result.summary
        assert [ref.name for ref in result.artifacts] == ["sentiment.csv"]
    finally:
        await service.stop()


async def test_empty_text_fails_the_step_with_the_reason(nats_server, bus, tmp_path):
    service = await start_service(nats_server, tmp_path)
    try:
        results = await StepResults(bus).start()
        request = StepRequested(task_id="t_1", step_id="s1", attempt=1, agent="sentiment", instruction="sentiment: ")
        result = await run_step(bus, results, request)
        assert result.status == "failed" and result.error.code == "empty_input" and not result.error.retryable
        assert "no text to analyse" in result.error.message
    finally:
        await service.stop()


def rate(body: dict) -> str:
    texts = body["messages"][-1]["content"].splitlines()
    items = [{"index": i, "score": -0.8 if "hate" in t else 0.9, "emotions": ["anger"] if "hate" in t else ["joy"]}
             for i, t in enumerate(texts)]
    return json.dumps({"items": items})


async def test_openai_mode_uses_structured_output(nats_server, bus, tmp_path):
    with FakeOpenAI(rate) as fake:
        service = await start_service(nats_server, tmp_path, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=fake.base_url)
        try:
            results = await StepResults(bus).start()
            request = StepRequested(task_id="t_1", step_id="s1", attempt=1, agent="sentiment",
                                    instruction='sentiment of "I love it" and "I hate it"')
            result = await run_step(bus, results, request)
        finally:
            await service.stop()
    assert result.output.mode == "openai"
    assert [(i.label, i.top_emotions) for i in result.output.items] == [("positive", ["joy"]), ("negative", ["anger"])]
    sent = fake.requests[0]
    assert sent["response_format"]["type"] == "json_schema" and "0. I love it" in sent["messages"][-1]["content"]


async def test_openai_errors_fall_back_to_vader_and_say_so(nats_server, bus, tmp_path):
    with FakeOpenAI(lambda body: (500, {"error": {"message": "boom"}})) as fake:
        service = await start_service(nats_server, tmp_path, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=fake.base_url)
        try:
            results = await StepResults(bus).start()
            request = StepRequested(task_id="t_1", step_id="s1", attempt=1, agent="sentiment",
                                    instruction='sentiment of "wonderful"')
            result = await run_step(bus, results, request)
        finally:
            await service.stop()
    assert result.status == "completed" and result.output.mode == "vader"
    assert "OpenAI was unavailable" in result.summary


def test_openai_is_used_with_a_key_or_a_base_url_alone_and_blank_values_are_unset(tmp_path):
    def service(**env) -> SentimentService:
        settings = SentimentSettings(nltk_data=tmp_path / "nltk", storage_path=tmp_path / "objects", workers=1, **env)
        agent = SentimentService(settings)
        agent.setup()
        agent.analyzer.close()
        return agent

    assert service(OPENAI_BASE_URL="http://127.0.0.1:9/v1").llm is not None  # a local server needs no key
    assert service(OPENAI_API_KEY="", OPENAI_BASE_URL="").llm is None  # Compose's ${OPENAI_API_KEY:-}
    assert service(OPENAI_API_KEY="sk-test", sentiment_mode="vader").llm is None
    with pytest.raises(SystemExit, match="needs OPENAI_API_KEY or OPENAI_BASE_URL"):
        service(OPENAI_API_KEY="", sentiment_mode="openai")
