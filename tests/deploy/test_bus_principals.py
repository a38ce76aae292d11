"""Bus principals over a real nats-server with the generated users: another system's NATS
user submits only on `aiorch.tasks.submitted.<its name>`, its tasks belong to it, and the
gateway principal of the same name (and no other) sees them."""

import asyncio
import hashlib
import shutil
import tempfile
import time
from pathlib import Path

import httpx
import nats
import pytest

from aiorch.contracts import EventType, FileRef, TaskEvent, TaskSubmitted, new_task_id, subjects
from aiorch.runtime.local import LocalSystem
from aiorch.runtime.natsauth import all_permissions, check_bus_principals, inbox_prefix, password_variable, render_config

ROOT = Path(__file__).resolve().parents[2]
BUS = ["crm", "billing"]
PASSWORDS = {user: f"pw-{user}-0123456789abcdef" for user in all_permissions(BUS)}
KEYS = {name: f"{name}-key-0123456789abcdef" for name in ("crm", "billing", "other", "root")}
SCOPES = {"crm": "submit,read", "billing": "submit,read", "other": "submit,read", "root": "admin"}

pytestmark = pytest.mark.e2e


def test_bus_principal_names_are_checked():
    for bad in ("events", "cancel", "gateway", "planner", "a.b", "a*", "", "x" * 65):
        with pytest.raises(ValueError):
            check_bus_principals([bad])
    with pytest.raises(ValueError, match="clashes"):
        check_bus_principals(["my-crm", "my_crm"])  # one password variable
    assert password_variable("my-crm") == "AIORCH_NATS_PASSWORD_MY_CRM"
    assert all_permissions(["crm"])["crm"] == {
        "publish": {"allow": ["aiorch.tasks.submitted.crm"]}, "subscribe": {"allow": ["_INBOX_crm.>"]},
    }
    assert "crm" not in render_config() and '"user": "crm"' in render_config(["crm"])


@pytest.fixture(scope="module")
def bus_world():
    with tempfile.TemporaryDirectory(prefix="aiorch-bus-") as root:
        root = Path(root)
        (root / "conf").mkdir()
        shutil.copy(ROOT / "deploy" / "nats" / "nats.conf", root / "conf" / "nats.conf")
        (root / "conf" / "auth.conf").write_text(render_config(BUS))
        keys = root / "keys"
        keys.write_text("".join(f"{name} {SCOPES[name]} {hashlib.sha256(key.encode()).hexdigest()}\n"
                                for name, key in KEYS.items()))
        system = LocalSystem(
            root, ROOT / "test-artifacts" / "logs" / "bus-principals", "env-key-0123456789abcdef", agents=[],
            nats_config=root / "conf" / "nats.conf",
            nats_env={password_variable(user): password for user, password in PASSWORDS.items()},
            service_env={user: {"AIORCH_NATS_USER": user, "AIORCH_NATS_PASSWORD": PASSWORDS[user]}
                         for user in ("planner", "gateway")},
            AIORCH_API_KEYS_FILE=str(keys), AIORCH_RETENTION_SWEEP_S="0.5",
        )
        system.start()
        http = {name: httpx.Client(base_url=system.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
                for name, key in KEYS.items()}
        yield system, http
        system.stop()


async def publish_as(system, user: str, subject: str, message: TaskSubmitted) -> list[str]:
    """Publish with `user`'s NATS credentials; the permission errors the server sent."""
    errors: list[str] = []

    async def on_error(error: Exception) -> None:
        errors.append(str(error))

    connection = await nats.connect(system.nats.url, user=user, password=PASSWORDS[user],
                                    inbox_prefix=inbox_prefix(user), error_cb=on_error)
    try:
        try:
            await connection.jetstream().publish(subject, message.model_dump_json().encode(), timeout=2)
        except Exception as exc:  # no ack comes back for a refused publication
            errors.append(f"{type(exc).__name__}: {exc}")
        await connection.flush()
        await asyncio.sleep(0.3)
    finally:
        await connection.close()
    return errors


def wait_for(client: httpx.Client, task_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/v1/tasks/{task_id}")
        if response.status_code == 200 and response.json()["status"] != "submitted":
            return response.json()
        time.sleep(0.2)
    raise AssertionError(f"{task_id} did not reach its owner")


def listed(client: httpx.Client) -> set[str]:
    return {task["task_id"] for task in client.get("/v1/tasks", params={"limit": 100}).json()["tasks"]}


def test_a_bus_principal_submits_as_itself_and_its_namesake_sees_it(bus_world):
    system, http = bus_world
    task_id = new_task_id()
    message = TaskSubmitted(task_id=task_id, request='sentiment of "I love it"', source="crm")
    assert asyncio.run(publish_as(system, "crm", subjects.tasks_submitted_by("crm"), message)) == []
    record = wait_for(http["crm"], task_id)
    assert record["owner"] == "crm"
    assert task_id in listed(http["crm"]) and task_id in listed(http["root"])
    for stranger in ("billing", "other"):
        assert http[stranger].get(f"/v1/tasks/{task_id}").status_code == 404
        assert task_id not in listed(http[stranger])


def test_a_bus_principal_cannot_publish_as_another_or_on_the_gateways_subject(bus_world):
    system, http = bus_world
    for subject in (subjects.TASKS_SUBMITTED, subjects.tasks_submitted_by("billing"), subjects.task_cancel("t_1"),
                    subjects.task_events("t_1")):
        task_id = new_task_id()
        errors = asyncio.run(publish_as(system, "crm", subject, TaskSubmitted(task_id=task_id, request="hi",
                                                                                owner="billing")))
        assert any("permissions violation" in error.lower() for error in errors), (subject, errors)
        time.sleep(0.5)
        assert http["root"].get(f"/v1/tasks/{task_id}").status_code == 404


def test_an_owner_field_naming_someone_else_is_refused_with_a_reason(bus_world):
    system, http = bus_world
    task_id = new_task_id()
    forged = TaskSubmitted(task_id=task_id, request="sentiment of 'fine'", owner="billing")
    assert asyncio.run(publish_as(system, "crm", subjects.tasks_submitted_by("crm"), forged)) == []
    record = wait_for(http["crm"], task_id)
    assert record["status"] == "rejected" and record["owner"] == "crm"
    assert "'billing'" in record["reason"] and "itself" in record["reason"]
    assert http["billing"].get(f"/v1/tasks/{task_id}").status_code == 404


def test_a_bus_principal_cannot_send_another_tasks_upload(bus_world):
    """Files only from the task's own upload folder: naming another task's upload would have
    an agent read it and hand the result back to this principal."""
    system, http = bus_world
    theirs = http["billing"].post("/v1/tasks", json={"request": "sentiment of 'fine'"})
    assert theirs.status_code == 202
    words = b"private words"
    their_file = FileRef(key=f"uploads/{theirs.json()['task_id']}/mine.txt", name="mine.txt", media_type="text/plain",
                         size=len(words), sha256=hashlib.sha256(words).hexdigest())
    task_id = new_task_id()
    borrowing = TaskSubmitted(task_id=task_id, request="how does this feel?", files=[their_file])
    assert asyncio.run(publish_as(system, "crm", subjects.tasks_submitted_by("crm"), borrowing)) == []
    record = wait_for(http["crm"], task_id)
    assert record["status"] == "rejected" and record["plan"] is None
    assert f"uploads/{task_id}/" in record["reason"] and their_file.key in record["reason"]


def test_a_taken_task_id_never_touches_the_other_principals_task(bus_world):
    system, http = bus_world
    theirs = http["billing"].post("/v1/tasks", json={"request": "sentiment of 'fine'"})
    assert theirs.status_code == 202
    task_id = theirs.json()["task_id"]
    before = wait_for(http["billing"], task_id)
    hijack = TaskSubmitted(task_id=task_id, request="something else entirely")
    assert asyncio.run(publish_as(system, "crm", subjects.tasks_submitted_by("crm"), hijack)) == []
    deadline = time.monotonic() + 30
    while not (refused := [t for t in listed(http["crm"]) if t.startswith("t_rejected_")]):
        assert time.monotonic() < deadline, "the hijack was not refused"
        time.sleep(0.2)
    after = http["billing"].get(f"/v1/tasks/{task_id}").json()
    assert after["owner"] == "billing" and after["request"] == before["request"] and after["plan"] == before["plan"]
    record = http["crm"].get(f"/v1/tasks/{refused[0]}").json()
    assert record["status"] == "rejected" and "already in use" in record["reason"]
    assert http["crm"].get(f"/v1/tasks/{task_id}").status_code == 404


def test_the_retention_sweep_works_with_the_gateways_nats_permissions(bus_world):
    system, _ = bus_world
    stray = new_task_id()

    async def stray_events() -> int:
        planner = await nats.connect(system.nats.url, user="planner", password=PASSWORDS["planner"],
                                     inbox_prefix=inbox_prefix("planner"))
        try:
            js = planner.jetstream()
            if not stray_events.published:
                event = TaskEvent(task_id=stray, seq=1, type=EventType.completed)
                await js.publish(subjects.task_events(stray), event.model_dump_json().encode())
                stray_events.published = True
            info = await js.stream_info(subjects.STREAM_TASKS, subjects_filter=subjects.task_events(stray))
            return sum((info.state.subjects or {}).values())
        finally:
            await planner.close()

    stray_events.published = False
    assert asyncio.run(stray_events()) == 1
    deadline = time.monotonic() + 20
    while asyncio.run(stray_events()):  # an event without a record: the sweep removes it
        assert time.monotonic() < deadline, system.services["gateway"].log()[-2000:]
        time.sleep(0.3)
    log = system.services["gateway"].log()
    assert "retention sweep failed" not in log and "Permissions Violation" not in log
