"""The csv service on a real nats-server and object store."""

import csv
import io
import itertools
import json

import pytest

from aiorch.contracts import CleaningSpec, StepRequested, subjects
from aiorch.csv.app import CsvService
from aiorch.csv.config import CsvSettings
from aiorch.runtime.testing import FakeOpenAI, StepResults

pytestmark = pytest.mark.nats
STEPS = itertools.count(1)
MESSY = b"id,country,price\n1,USA,$5\n2,usa,N/A\n3,Canada,7\n3,Canada,7\n4,USA,-2\n5,USA,3\n6,Canada,4\n"


@pytest.fixture
async def service(nats_server, bus, tmp_path):
    created = []

    async def start(**overrides) -> CsvService:
        settings = CsvSettings(nats_url=nats_server.url, storage_path=tmp_path / "objects", log_json=False, **overrides)
        created.append(CsvService(settings))
        await created[-1].start()
        return created[-1]

    yield start
    for running in created:
        await running.stop()


async def run(bus, service, data: bytes, instruction: str = "clean it", name: str = "m.csv", params=None):
    results = await StepResults(bus).start()
    ref = service.store.put(f"uploads/t_1/{name}", name, data, "text/csv")
    step_id = f"s{next(STEPS)}"  # each run its own step: a repeated one is answered from the cache
    request = StepRequested(task_id="t_1", step_id=step_id, attempt=1, agent="csv", instruction=instruction,
                            files=[ref], params=params or {})
    await bus.publish(subjects.agent_requests("csv"), request)
    return await results.next(timeout=30)


async def test_a_messy_file_comes_back_cleaned_with_its_change_log(service, bus):
    agent = await service()
    result = await run(bus, agent, MESSY, "clean it and remove rows where price is negative")
    assert result.status == "completed", result.error
    output = result.output
    assert [ref.name for ref in result.artifacts] == ["m.cleaned.csv", "m.changes.csv"]
    cleaned = list(csv.DictReader(io.StringIO(agent.store.get(output.cleaned_file.key).decode())))
    assert [row["country"] for row in cleaned] == ["USA", "USA", "Canada", "USA", "Canada"]
    assert [row["price"] for row in cleaned] == ["5", "", "7", "3", "4"]
    log = agent.store.get(output.change_log_file.key).decode()
    assert "usa,USA,case" in log and "removed: price < 0" in log
    assert output.spec.remove_rows[0].column == "price" and output.spec.source == "offline"
    assert "**Cleaned `m.csv`**" in result.summary and output.files == [output.cleaned_file]


async def test_a_stored_spec_repeats_a_run(service, bus):
    agent = await service()
    spec = CleaningSpec(deduplicate=False)
    result = await run(bus, agent, MESSY, "whatever", params={"spec": spec.model_dump_json()})
    assert result.output.spec.source == "params" and result.output.rows_after == 7


@pytest.mark.parametrize(
    "data, code",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, "binary_file"),
        (b"", "empty_file"),
        (b"a,b,c\n", "no_rows"),
        (b"a,b\n1," + b"x" * (10 * 1024 * 1024) + b"\n", "field_too_large"),
    ],
    ids=["binary", "empty", "header-only", "10-MB-line"],
)
async def test_bad_files_fail_the_step_clearly_and_the_service_keeps_serving(service, bus, data, code):
    agent = await service()
    result = await run(bus, agent, data)
    assert result.status == "failed" and result.error.code == code and not result.error.retryable
    assert (await run(bus, agent, MESSY)).status == "completed"


async def test_large_files_are_streamed(service, bus):
    agent = await service(max_in_memory_bytes=1000)
    rows = b"".join(f"{n % 300},name {n % 300}, x \n".encode() for n in range(2000))
    result = await run(bus, agent, b"id,name,note\n" + rows)
    output = result.output
    assert result.status == "completed" and output.streamed
    assert output.rows_before == 2000 and output.rows_after == 300 and output.changes_per_rule["whitespace"] == 2000
    assert agent.store.get(output.cleaned_file.key).decode().count("\n") == 301


async def test_with_an_llm_the_instruction_becomes_a_structured_spec(service, bus):
    spec = {"fix_formats": True, "fold_categories": True, "deduplicate": True, "dedupe_keys": [],
            "drop_rows_missing": ["price"], "drop_columns_missing_over": None, "drop_rows_missing_over": None,
            "fill": [], "remove_rows": [], "ranges": [], "source": "default"}
    with FakeOpenAI(lambda body: json.dumps(spec)) as fake:
        agent = await service(OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=fake.base_url)
        result = await run(bus, agent, MESSY, "get rid of rows without a price")
    assert result.output.spec.source == "openai" and result.output.spec.drop_rows_missing == ["price"]
    assert result.output.rows_after == 5
    assert "Columns: ['id', 'country', 'price']" in fake.requests[0]["messages"][1]["content"]
