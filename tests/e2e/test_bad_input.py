"""Bad input gets a clear 4xx or a failed task with a reason; nothing crashes."""

import json
import time

import httpx
import nats
import pytest

pytestmark = pytest.mark.e2e

ADMIN_KEY = "admin-key-0123456789abcdef"  # the admin principal of tests/conftest.py's systems
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def test_malformed_json_names_the_field(system):
    response = system.http.post("/v1/tasks", json={"files": []})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "request"]
    response = system.http.post("/v1/tasks", json={"request": "x", "files": [{"key": "uploads/a"}]})
    assert response.status_code == 422 and ["body", "files", 0, "name"] in [e["loc"] for e in response.json()["detail"]]
    response = system.http.post("/v1/tasks", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_unknown_task_is_404(system):
    for path in ("/v1/tasks/t_doesnotexist", "/v1/tasks/t_doesnotexist/artifacts/x.csv"):
        response = system.http.get(path)
        assert response.status_code == 404 and "no task" in response.json()["detail"]
    assert system.http.post("/v1/tasks/t_doesnotexist/cancel").status_code == 404


def test_an_upload_over_the_limit_is_413(system):
    response = system.http.post("/v1/tasks", data={"request": "sentiment"},
                                files={"files": ("big.txt", b"a" * (4 * 1024 * 1024 + 1))})
    assert response.status_code == 413 and "the limit is 4,194,304 bytes" in response.json()["detail"]


def test_a_type_no_agent_takes_is_415_listing_accepted_types(system):
    response = system.http.post("/v1/tasks", data={"request": "sentiment"}, files={"files": ("notes.txt", PDF)})
    assert response.status_code == 415
    detail = response.json()["detail"]
    assert "application/pdf" in detail and "accepted types: image/heic, image/heif, image/jpeg, image/png" in detail


def test_missing_or_wrong_key_is_401(system):
    assert httpx.get(f"{system.url}/v1/tasks").status_code == 401
    wrong = httpx.get(f"{system.url}/v1/tasks", headers={"Authorization": "Bearer nope-nope-nope-nope"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "invalid API key"


def test_empty_text_is_a_failed_step_that_says_why(system):
    task_id = system.submit("What is the sentiment of this text: ''")
    events = system.events(task_id)
    assert [e["type"] for e in events][-2:] == ["step_failed", "failed"]
    assert "no text to analyse" in events[-2]["error"]["message"]
    assert system.task(task_id)["status"] == "failed"


async def test_a_malformed_message_on_the_bus_is_rejected_and_everything_keeps_running(system):
    connection = await nats.connect(system.nats.url)
    js = connection.jetstream()
    events = await js.subscribe("aiorch.tasks.t_badmsg1.events", ordered_consumer=True)
    await js.publish("aiorch.tasks.submitted", json.dumps({"task_id": "t_badmsg1", "request": 42}).encode())
    event = json.loads((await events.next_msg(timeout=10)).data)
    await connection.close()
    assert event["type"] == "rejected" and "request" in event["message"]
    assert "rejected a malformed submission" in system.services["planner"].log()
    for service in system.services.values():
        assert service.process.poll() is None
    task_id = system.submit('sentiment of "still working"')
    assert system.events(task_id)[-1]["type"] == "completed"


def test_garbage_on_the_bus_is_rejected_too(system):
    import asyncio

    async def publish():
        connection = await nats.connect(system.nats.url)
        await connection.jetstream().publish("aiorch.tasks.submitted", b"\x00\xffgarbage")
        await connection.close()

    asyncio.run(publish())
    # Recorded as a rejected task of its own (it names no task), whenever the planner reads it.
    deadline = time.monotonic() + 15
    while True:
        # Published with no owner: only an admin sees it.
        listed = httpx.get(f"{system.url}/v1/tasks", params={"limit": 100},
                           headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()["tasks"]
        garbage = [task for task in listed if task["task_id"].startswith("t_rejected_")]
        if garbage or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert garbage and garbage[0]["status"] == "rejected"
    task_id = system.submit('sentiment of "fine"')
    assert system.events(task_id)[-1]["type"] == "completed"
