"""Per-service NATS users: the generated permissions are enough to run every service,
and an agent's credentials cannot publish on another agent's subject."""

import asyncio
import shutil
import tempfile
from pathlib import Path

import nats
import pytest

from aiorch.runtime.natsauth import all_permissions, inbox_prefix, password_variable, render_config
from aiorch.runtime.local import LocalSystem

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "nats"
PASSWORDS = {user: f"pw-{user}-0123456789abcdef" for user in all_permissions()}

pytestmark = pytest.mark.e2e


def test_the_checked_in_auth_conf_is_current():
    assert (CONF / "auth.conf").read_text() == render_config(), "run `make nats-auth`"


@pytest.fixture(scope="module")
def secured():
    with tempfile.TemporaryDirectory(prefix="aiorch-auth-") as root:
        root = Path(root)
        shutil.copytree(CONF, root / "conf")
        system = LocalSystem(
            root, ROOT / "test-artifacts" / "logs" / "auth", "auth-key-0123456789abcdef",
            nats_config=root / "conf" / "nats.conf",
            nats_env={password_variable(user): password for user, password in PASSWORDS.items()},
            service_env={user: {"AIORCH_NATS_USER": user, "AIORCH_NATS_PASSWORD": password}
                         for user, password in PASSWORDS.items()},
        ).start()
        yield system
        system.stop()


def test_every_service_works_with_only_its_own_permissions(secured):
    task_id = secured.submit('What is the sentiment of "lovely"?', files={"a.txt": b"I love it"})
    assert secured.events(task_id)[-1]["type"] == "completed"
    assert secured.http.post("/v1/plan", json={"request": "sentiment of 'ok'"}).json()["steps"]
    assert secured.http.get("/v1/tasks").json()["tasks"][0]["task_id"] == task_id


async def connect_as(secured, user: str, errors: list[str]):
    async def on_error(error: Exception) -> None:
        errors.append(str(error))

    return await nats.connect(secured.nats.url, user=user, password=PASSWORDS[user],
                              inbox_prefix=inbox_prefix(user), error_cb=on_error)


async def test_an_agent_cannot_publish_on_another_agents_subject(secured):
    errors: list[str] = []
    agent = await connect_as(secured, "sentiment", errors)
    for subject in ("aiorch.agents.csv.requests", "aiorch.tasks.submitted", "aiorch.tasks.t_1.events",
                    "$JS.API.CONSUMER.MSG.NEXT.AIORCH_WORK.agent-csv"):
        await agent.publish(subject, b"{}")
    await agent.publish("aiorch.agents.progress", b"{}")  # its own kind of message is fine
    await agent.flush()
    await asyncio.sleep(0.5)
    await agent.close()
    denied = [error for error in errors if "permissions violation" in error.lower()]
    assert len(denied) == 4, errors
    assert not any("aiorch.agents.progress" in error for error in errors)

    planner = await connect_as(secured, "planner", [])
    info = await planner.jetstream().stream_info("AIORCH_WORK", subjects_filter="aiorch.agents.csv.requests")
    await planner.close()
    assert not info.state.subjects


async def test_an_agent_cannot_read_another_agents_requests(secured):
    errors: list[str] = []
    agent = await connect_as(secured, "sentiment", errors)
    with pytest.raises(Exception):
        await agent.subscribe("aiorch.agents.csv.requests")
        await agent.flush()
        await asyncio.sleep(0.3)
        if errors:
            raise PermissionError(errors[0])
    await agent.close()
    assert "permissions violation" in errors[0].lower()


async def test_anonymous_and_wrong_passwords_are_refused(secured):
    with pytest.raises(Exception):
        await nats.connect(secured.nats.url, max_reconnect_attempts=0, connect_timeout=2, allow_reconnect=False)
    with pytest.raises(Exception):
        await nats.connect(secured.nats.url, user="sentiment", password="wrong", allow_reconnect=False,
                           max_reconnect_attempts=0, connect_timeout=2)
