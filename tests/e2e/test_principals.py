"""Who may see what, over the real system (nats-server, planner, sentiment agent, gateway;
files in moto's S3 server): ownership on every route and the WebSocket, scopes, revoked
keys, deletion and expiry."""

import asyncio
import os
import signal
import time

import httpx
import nats
import pytest
from nats.js.errors import NotFoundError
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

ROWS = b"id,comment\n1,Absolutely wonderful stay\n2,Terrible food and awful service\n"

pytestmark = pytest.mark.e2e

def submit(client, text="sentiment of the comment column", rows=ROWS) -> str:
    response = client.post("/v1/tasks", data={"request": text}, files=[("files", ("reviews.csv", rows))])
    assert response.status_code == 202, response.text
    return response.json()["task_id"]


def wait(client, task_id, timeout=60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = client.get(f"/v1/tasks/{task_id}").json()
        if record["status"] in ("completed", "failed", "cancelled", "rejected"):
            return record
        time.sleep(0.2)
    raise AssertionError(f"{task_id} did not end")


def websocket(system, key, task_id) -> tuple[list, int | None]:
    url = f"ws://127.0.0.1:{system.gateway_port}/v1/tasks/{task_id}/events"
    received = []
    with connect(url, additional_headers={"Authorization": f"Bearer {key}"}, open_timeout=10) as ws:
        try:
            while True:
                received.append(ws.recv(timeout=30))
        except ConnectionClosed as closed:
            return received, closed.rcvd.code if closed.rcvd else None


def stream_message(system, seq: int) -> bytes | None:
    async def read() -> bytes | None:
        connection = await nats.connect(system.nats.url)
        try:
            return (await connection.jetstream().get_msg("AIORCH_TASKS", seq)).data
        except NotFoundError:
            return None
        finally:
            await connection.close()

    return asyncio.run(read())


def objects(store, task_id) -> list[str]:
    return store.list_keys(f"uploads/{task_id}/") + store.list_keys(f"artifacts/{task_id}/")


def test_each_principal_sees_only_its_own_tasks_and_admin_sees_all(keyed_world):
    system, http, store, _, KEYS, _ = keyed_world
    mine, theirs = submit(http["alice"]), submit(http["bob"])
    assert wait(http["alice"], mine)["owner"] == "alice" and wait(http["bob"], theirs)["status"] == "completed"
    assert objects(store, mine) and objects(store, theirs)

    listed = {name: {t["task_id"] for t in http[name].get("/v1/tasks", params={"limit": 100}).json()["tasks"]}
              for name in ("alice", "bob", "root")}
    assert mine in listed["alice"] and theirs not in listed["alice"]
    assert theirs in listed["bob"] and mine not in listed["bob"]
    assert {mine, theirs} <= listed["root"]

    for task_id, stranger in ((mine, "bob"), (theirs, "alice")):
        client = http[stranger]
        assert client.get(f"/v1/tasks/{task_id}").status_code == 404
        assert client.get(f"/v1/tasks/{task_id}/artifacts/sentiment.csv").status_code == 404
        assert client.post(f"/v1/tasks/{task_id}/cancel").status_code == 404
        assert client.delete(f"/v1/tasks/{task_id}").status_code == 404
        events, code = websocket(system, KEYS[stranger], task_id)
        assert events == [] and code == 4404
        # Its uploads cannot be borrowed by reference either.
        upload = http["root"].get(f"/v1/tasks/{task_id}").json()["files"][0]
        for route in ("/v1/tasks", "/v1/plan"):
            refused = client.post(route, json={"request": "sentiment of this", "files": [upload]})
            assert refused.status_code == 422 and "no stored file" in refused.text
    own_upload = http["alice"].get(f"/v1/tasks/{mine}").json()["files"][0]
    assert http["alice"].post("/v1/plan", json={"request": "sentiment of the comment column",
                                                 "files": [own_upload]}).status_code == 200

    assert http["alice"].get(f"/v1/tasks/{mine}/artifacts/sentiment.csv").status_code == 200
    assert http["root"].get(f"/v1/tasks/{mine}/artifacts/sentiment.csv").status_code == 200
    events, code = websocket(system, KEYS["alice"], mine)
    assert code == 1000 and len(events) >= 5 and all(mine in event for event in events)
    assert len(websocket(system, KEYS["root"], theirs)[0]) >= 5
    guessed = "t_" + mine[2:-4] + "ffff"
    assert http["alice"].get(f"/v1/tasks/{guessed}").status_code == 404


def test_scopes_and_keys(keyed_world):
    system, http, _, _, KEYS, _ = keyed_world
    viewer = http["viewer"]
    assert viewer.post("/v1/tasks", json={"request": "sentiment of 'fine'"}).status_code == 403
    assert viewer.post("/v1/plan", json={"request": "sentiment of 'fine'"}).status_code == 403
    assert viewer.get("/v1/tasks").status_code == 200 and viewer.get("/v1/tasks").json()["tasks"] == []
    assert httpx.get(f"{system.url}/v1/tasks").status_code == 401
    wrong = httpx.get(f"{system.url}/v1/tasks", headers={"Authorization": "Bearer bob-key-0123456789abcdeX"})
    assert wrong.status_code == 401
    # AIORCH_API_KEYS still works: that key is a principal of its own.
    own = system.submit('sentiment of "I love it"')
    assert system.task(own)["owner"].startswith("key-") and http["alice"].get(f"/v1/tasks/{own}").status_code == 404


def test_deleting_removes_everything_and_twice_is_404(keyed_world):
    system, http, store, _, KEYS, _ = keyed_world
    task_id = submit(http["alice"])
    seq = wait(http["alice"], task_id)["submitted_seq"]
    assert seq and stream_message(system, seq) is not None
    assert len(objects(store, task_id)) == 2  # the upload and the artifact
    assert http["alice"].delete(f"/v1/tasks/{task_id}").status_code == 204
    assert objects(store, task_id) == []
    assert stream_message(system, seq) is None  # the submission (request, file refs) is gone too
    assert http["alice"].get(f"/v1/tasks/{task_id}").status_code == 404
    assert http["root"].get(f"/v1/tasks/{task_id}").status_code == 404
    assert http["alice"].delete(f"/v1/tasks/{task_id}").status_code == 404
    assert websocket(system, KEYS["alice"], task_id)[1] == 4404
    log = system.services["gateway"].log()
    audit = [line for line in log.splitlines() if task_id in line and '"audit": "delete"' in line]
    assert audit and '"by": "alice"' in audit[0] and "Absolutely" not in log


def test_deleting_a_running_task_stops_it_and_removes_what_its_step_writes(keyed_world):
    system, http, store, _, KEYS, _ = keyed_world
    agent = system.services["sentiment"]
    agent.signal(signal.SIGSTOP)  # the step stays running until the task is gone
    try:
        task_id = submit(http["alice"])
        deadline = time.monotonic() + 30
        while http["alice"].get(f"/v1/tasks/{task_id}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert http["alice"].delete(f"/v1/tasks/{task_id}").status_code == 204
        assert objects(store, task_id) == []
    finally:
        agent.signal(signal.SIGCONT)
    # The agent finishes, writes its artifact, reports; the planner removes it.
    deadline = time.monotonic() + 30
    while "output of a deleted task removed" not in system.services["planner"].log():
        assert time.monotonic() < deadline, "the planner did not clean up after the deleted task"
        time.sleep(0.2)
    assert objects(store, task_id) == []
    assert http["root"].get(f"/v1/tasks/{task_id}").status_code == 404


def test_expiry_removes_the_task_and_its_files(keyed_world):
    _, http, store, _, _, _ = keyed_world
    task_id = submit(http["brief"])  # retention=2s, swept every second
    deadline = time.monotonic() + 30
    while http["root"].get(f"/v1/tasks/{task_id}").status_code != 404 or objects(store, task_id):
        assert time.monotonic() < deadline, "the task did not expire"
        time.sleep(0.3)


def test_a_revoked_key_is_refused_at_once(keyed_world):
    _, http, _, path, KEYS, keys_file = keyed_world
    assert http["bob"].get("/v1/tasks").status_code == 200
    replacement = path.with_name("keys.new")
    replacement.write_text(keys_file([name for name in KEYS if name != "bob"]))
    os.replace(replacement, path)
    try:
        assert http["bob"].get("/v1/tasks").status_code == 401
        assert http["alice"].get("/v1/tasks").status_code == 200
    finally:
        replacement.write_text(keys_file(KEYS))
        os.replace(replacement, path)
