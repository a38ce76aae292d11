"""The csv agent end to end: upload, clean, download; and as a step feeding sentiment."""

import csv
import io
import json

import pytest

from aiorch.runtime.testing import FakeOpenAI

from tests.conftest import ON_BOTH_BACKENDS

pytestmark = [pytest.mark.e2e, ON_BOTH_BACKENDS]

MESSY = (
    "id,customer,country,amount,comment\n"
    "1, Ada ,USA,\"$1,200.00\",Absolutely wonderful service\n"
    "2,Ben,usa,N/A,Terrible and slow\n"
    "3,Cleo,Canada,45.5,Great value\n"
    "3,Cleo,Canada,45.5,Great value\n"
    "4,Dario,Canda,12,It was fine\n"
    "5,Elena,Canada,7,Loved it\n"
    "6,Farid,USA,9,Awful support\n"
)


def test_upload_a_messy_csv_and_download_the_cleaned_file(system):
    task_id = system.submit("clean it", files={"customers.csv": MESSY.encode()})
    events = system.events(task_id)
    assert [e["type"] for e in events][-1] == "completed", events[-1]
    assert events[1]["plan"]["steps"][0]["agent"] == "csv"
    output = system.task(task_id)["steps"]["s1"]["result"]["output"]
    assert output["rows_before"] == 7 and output["rows_after"] == 6 and output["changes_per_rule"]["typo"] == 1
    cleaned = system.http.get(f"/v1/tasks/{task_id}/artifacts/customers.cleaned.csv")
    rows = list(csv.DictReader(io.StringIO(cleaned.text)))
    assert [row["country"] for row in rows] == ["USA", "USA", "Canada", "Canada", "Canada", "USA"]
    assert rows[0]["amount"] == "1200.00" and rows[0]["customer"] == "Ada"
    changes = system.http.get(f"/v1/tasks/{task_id}/artifacts/customers.changes.csv").text
    assert "Canda,Canada,typo" in changes
    assert "**Cleaned `customers.csv`**" in events[-1]["answer"]


def test_a_binary_file_named_csv_is_refused_at_the_door(system):
    response = system.http.post("/v1/tasks", data={"request": "clean it"},
                                files={"files": ("data.csv", b"\x00\x01\x02\x03" * 100)})
    assert response.status_code == 415 and "application/octet-stream" in response.json()["detail"]


def chain_plan(body: dict) -> str:
    """An LLM planner answer: clean the file, then the sentiment of the cleaned comment column."""
    return json.dumps({"explanation": "", "steps": [
        {"id": "s1", "agent": "csv", "instruction": "clean it", "depends_on": [], "inputs": [], "uses_files": True},
        {"id": "s2", "agent": "sentiment", "instruction": "sentiment of the comment column", "depends_on": ["s1"],
         "inputs": [{"step": "s1", "output": "files"}], "uses_files": False},
    ]})


def test_a_cleaned_column_feeds_the_sentiment_agent(fresh_system):
    with FakeOpenAI(chain_plan) as fake:
        system = fresh_system(service_env={"planner": {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.base_url}})
        task_id = system.submit("clean this file, then the mood of the comment column",
                                files={"reviews.csv": MESSY.encode()})
        events = system.events(task_id)
    assert events[-1]["type"] == "completed", events[-1]
    assert events[1]["plan"]["planner"] == "openai"
    record = system.task(task_id)
    sentiment = record["steps"]["s2"]["result"]["output"]
    assert len(sentiment["items"]) == 6  # the duplicate row was cleaned away first
    assert [item["label"] for item in sentiment["items"]][:2] == ["positive", "negative"]
    assert "### s1 · csv" in record["answer"] and "### s2 · sentiment" in record["answer"]
