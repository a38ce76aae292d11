"""End to end over HTTP and the WebSocket, against real processes."""

import csv
import io

import pytest

from aiorch.runtime.storage import S3ObjectStore

from tests.conftest import ON_BOTH_BACKENDS

pytestmark = [pytest.mark.e2e, ON_BOTH_BACKENDS]


def types(events):
    return [event["type"] for event in events]


def test_plain_text_task_streams_its_events_and_completes(system):
    task_id = system.submit('What is the sentiment of "I absolutely love this phone"?')
    events = system.events(task_id)
    # A progress event may come in between when the agent's first report beats its result.
    assert [t for t in types(events) if t != "progress"] == [
        "submitted", "planned", "step_started", "step_completed", "completed"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[1]["plan"]["steps"][0]["agent"] == "sentiment"
    assert "**Sentiment: positive**" in events[-1]["answer"]
    record = system.task(task_id)
    assert record["status"] == "completed"
    assert record["steps"]["s1"]["result"]["output"]["items"][0]["label"] == "positive"


def test_a_txt_upload(system):
    text = "The hotel was dirty. The staff were rude. I will never come back."
    task_id = system.submit("How does this guest feel?", files={"review.txt": text.encode()})
    events = system.events(task_id)
    assert types(events)[-1] == "completed"
    output = system.task(task_id)["steps"]["s1"]["result"]["output"]
    assert output["source"] == "file" and output["overall_label"] == "negative"
    assert len(output["items"][0]["sentences"]) == 3


def test_a_csv_column_and_its_artifact(system):
    rows = "id,comment\n1,Absolutely wonderful stay\n2,Terrible food and awful service\n3,Great location\n"
    task_id = system.submit("sentiment of the comment column", files={"reviews.csv": rows.encode()})
    assert types(system.events(task_id))[-1] == "completed"
    record = system.task(task_id)
    assert record["files"][0]["media_type"] == "text/csv"
    output = record["steps"]["s1"]["result"]["output"]
    assert [item["label"] for item in output["items"]] == ["positive", "negative", "positive"]
    download = system.http.get(f"/v1/tasks/{task_id}/artifacts/sentiment.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(download.text)))
    assert [row["label"] for row in table] == ["positive", "negative", "positive"]
    assert system.http.get(f"/v1/tasks/{task_id}/artifacts/s1/sentiment.csv").status_code == 200
    assert system.http.get(f"/v1/tasks/{task_id}/artifacts/nope.csv").status_code == 404


def test_files_are_kept_in_the_configured_store(system, storage_backend, storage_env):
    task_id = system.submit("sentiment of the comment column", files={"reviews.csv": b"id,comment\n1,Great\n2,Awful\n"})
    assert types(system.events(task_id))[-1] == "completed"
    folder = system.root / "objects"
    in_folder = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()} \
        if folder.exists() else set()
    if storage_backend == "s3":
        bucket = S3ObjectStore(storage_env["AIORCH_S3_ENDPOINT"], storage_env["AIORCH_S3_ACCESS_KEY"],
                               storage_env["AIORCH_S3_SECRET_KEY"], storage_env["AIORCH_S3_BUCKET"], secure=False)
        in_bucket = bucket.list_keys(f"uploads/{task_id}/") + bucket.list_keys(f"artifacts/{task_id}/")
        assert f"uploads/{task_id}/reviews.csv" in in_bucket, in_bucket
        assert any(key.startswith(f"artifacts/{task_id}/") for key in in_bucket), in_bucket
        assert not in_folder, in_folder
    else:
        assert f"uploads/{task_id}/reviews.csv" in in_folder, in_folder
        assert any(key.startswith(f"artifacts/{task_id}/") for key in in_folder), in_folder


def test_the_websocket_replays_history_and_resumes_after_a_sequence_number(system):
    task_id = system.submit('sentiment of "meh"')
    full = system.events(task_id)
    assert system.events(task_id) == full
    assert system.events(task_id, after=3) == full[3:]


def test_listing_recent_tasks_pages_newest_first(system):
    ids = [system.submit(f'sentiment of "item {n} is fine"') for n in range(3)]
    page = system.http.get("/v1/tasks", params={"limit": 2}).json()
    assert [t["task_id"] for t in page["tasks"]] == ids[::-1][:2]
    rest = system.http.get("/v1/tasks", params={"limit": 2, "before": page["next_before"]}).json()
    assert rest["tasks"][0]["task_id"] == ids[0]


def test_dry_run_plans_without_running(system):
    def newest() -> list[str]:
        return [task["task_id"] for task in system.http.get("/v1/tasks", params={"limit": 1}).json()["tasks"]]

    before = newest()
    plan = system.http.post("/v1/plan", json={"request": "are these reviews positive: 'great', 'bad'"})
    assert plan.status_code == 200 and plan.json()["steps"][0]["agent"] == "sentiment"
    nothing = system.http.post("/v1/plan", json={"request": "write me a poem"}).json()
    assert nothing["steps"] == [] and "aiorch can do" in nothing["explanation"]
    assert newest() == before


def test_a_request_no_agent_serves_fails_with_the_explanation(system):
    task_id = system.submit("compose a sonnet about autumn")
    events = system.events(task_id)
    assert types(events) == ["submitted", "planned", "failed"]
    assert "aiorch can do" in events[-1]["message"]


def test_cancel(system):
    rows = "text\n" + "\n".join(f"review number {n} was good and bad and fine" for n in range(60_000))
    task_id = system.submit("sentiment of the text column", files={"big.csv": rows.encode()})
    system.events(task_id, until=lambda e: e["type"] == "step_started")
    assert system.http.post(f"/v1/tasks/{task_id}/cancel").status_code == 202
    events = system.events(task_id)
    assert types(events)[-1] == "cancelled"
    assert system.task(task_id)["status"] == "cancelled"
    assert system.http.post(f"/v1/tasks/{task_id}/cancel").status_code == 409


def test_limits_tell_clients_what_they_may_upload(system):
    limits = system.http.get("/v1/limits").json()
    assert "text/csv" in limits["accepted_media_types"] and limits["max_upload_bytes"] == 4 * 1024 * 1024
    assert {agent["name"] for agent in limits["agents"]} >= {"sentiment", "csv"}


def test_openapi_health_and_metrics(system):
    spec = system.http.get("/openapi.json").json()
    assert {"/v1/tasks", "/v1/tasks/{task_id}", "/v1/plan", "/v1/tasks/{task_id}/cancel"} <= set(spec["paths"])
    assert system.http.get("/docs").status_code == 200
    assert system.http.get("/healthz").json()["status"] == "ok"
    assert system.http.get("/readyz").status_code == 200
    assert "aiorch_gateway_tasks_submitted_total" in system.http.get("/metrics").text
