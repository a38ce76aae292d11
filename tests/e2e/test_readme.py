"""The README runs: each of its `curl` and CLI examples, and its nats-py program, against
the real system, outputs checked. An example this file does not recognise fails the test,
so a new one cannot go untested."""

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
README_URL = "http://127.0.0.1:8000"
TASK_PLACEHOLDER = "t_…"
REVIEWS = "id,comment\n1,Absolutely wonderful stay\n2,Terrible food and awful service\n"
LETTER = "Dear team, the delivery was late again and nobody answered my calls. I am very disappointed."


@pytest.fixture(scope="module")
def storage_backend() -> str:
    """S3 (moto): the nats-py program puts its file there, as a system on the bus would."""
    return "s3"


def fenced_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.S | re.M)


def commands() -> list[str]:
    """Every shell command the README shows: fenced sh/bash blocks (continuations joined),
    indented command lines, and inline `curl …` spans."""
    found = []
    for block in fenced_blocks("sh") + fenced_blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                found.append(line)
    found += [line.strip() for line in re.findall(r"^ {4,}(\.venv/bin/\S.*)$", README, flags=re.M)]
    found += re.findall(r"`(curl [^`]+)`", README)
    return found


def example(name: str) -> str:
    matches = [command for command in commands() if re.search(name, command)]
    assert matches, f"the README no longer shows an example matching {name!r}"
    return matches[0]


class Shell:
    """Runs README lines with bash in a folder of their own, as a user would after `make run`."""

    def __init__(self, system, cwd: Path) -> None:
        self.system = system
        self.cwd = cwd
        self.task_id = ""
        (cwd / ".env.local").write_text(f"AIORCH_API_KEYS={system.key}\n")
        (cwd / "reviews.csv").write_text(REVIEWS)
        (cwd / "letter.txt").write_text(LETTER)
        (cwd / ".venv").symlink_to(ROOT / ".venv")
        self.prelude = "\n".join(line for line in commands() if re.match(r"(KEY|H)=", line))

    def run(self, command: str) -> str:
        command = command.replace(README_URL, self.system.url).replace(TASK_PLACEHOLDER, self.task_id)
        done = subprocess.run(["bash", "-c", f"set -e\n{self.prelude}\n{command}"], cwd=self.cwd,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        return done.stdout

    def submit(self, command: str) -> dict:
        answer = json.loads(self.run(command))
        assert answer["status"] == "submitted" and answer["task_id"].startswith("t_"), answer
        self.system.events(answer["task_id"], timeout=120)
        return self.system.task(answer["task_id"])


@pytest.fixture(scope="module")
def shell(system, tmp_path_factory):
    return Shell(system, tmp_path_factory.mktemp("readme"))


def test_every_readme_command_is_covered():
    covered = [r"^make (run|test)\b", r"^(KEY|H)=", r"-d '\{\"request\": \"What is the sentiment", r"-F files=@reviews",
               r"-F files=@letter", r"/v1/tasks/t_…\s", r"/v1/tasks\?limit", r"/cancel", r"-O ", r"/v1/plan",
               r"-X DELETE", r"aiorch.gateway.keys create", r"bin/aiorch plan"]
    uncovered = [command for command in commands() if not any(re.search(pattern, command) for pattern in covered)]
    assert not uncovered, f"README examples no test runs: {uncovered}"


def test_the_first_example_scores_both_quoted_texts(shell):
    record = shell.submit(example(r"What is the sentiment of"))
    assert record["status"] == "completed", record
    [step] = record["plan"]["steps"]
    assert step["agent"] == "sentiment"
    items = record["steps"][step["id"]]["result"]["output"]["items"]
    assert [(item["text"], item["label"]) for item in items] == [
        ("I love this phone", "positive"), ("the battery is awful", "negative")]


def test_uploads_reads_listing_cancel_download_and_delete(shell):
    csv_task = shell.submit(example(r"-F files=@reviews"))
    assert csv_task["status"] == "completed", csv_task
    assert [item["label"] for item in csv_task["steps"]["s1"]["result"]["output"]["items"]] == ["positive", "negative"]
    letter_task = shell.submit(example(r"-F files=@letter"))
    assert letter_task["status"] == "completed"
    assert letter_task["steps"]["s1"]["result"]["output"]["overall_label"] == "negative"

    shell.task_id = csv_task["task_id"]
    read = json.loads(shell.run(example(r"/v1/tasks/t_…\s")))
    assert read["task_id"] == shell.task_id and read["status"] == "completed" and "answer" in read
    listed = json.loads(shell.run(example(r"/v1/tasks\?limit")))
    assert [item["task_id"] for item in listed["tasks"]][:2] == [letter_task["task_id"], shell.task_id]
    cancelled = json.loads(shell.run(example(r"/cancel")))  # finished already: said so, nothing lost
    assert cancelled == {"detail": f"task {shell.task_id} already ended (completed)"}
    shell.run(example(r"-O "))
    downloaded = (shell.cwd / "sentiment.csv").read_text().splitlines()
    assert "label" in downloaded[0].split(",") and len(downloaded) == 3, downloaded
    shell.run(example(r"-X DELETE"))
    assert shell.system.http.get(f"/v1/tasks/{shell.task_id}").status_code == 404


def test_dry_runs_over_http_and_on_the_command_line(shell):
    for pattern, agents in [(r"the staff were lovely", ["sentiment"]), (r"scrape the reviews", ["browser", "sentiment"])]:
        plan = json.loads(shell.run(example(pattern)))
        assert [step["agent"] for step in plan["steps"]] == agents, plan
    printed = shell.run(example(r"bin/aiorch plan"))
    assert "csv" in printed and "sentiment" in printed, printed


def test_the_keys_cli_prints_a_key_once_and_stores_only_its_hash(shell):
    key = shell.run(example(r"aiorch.gateway.keys create")).strip()
    stored = (shell.cwd / "keys.txt").read_text()
    assert len(key) >= 16 and key not in stored
    assert re.search(rf"^ui submit,read {hashlib.sha256(key.encode()).hexdigest()}\b", stored, flags=re.M), stored


def test_the_nats_program_submits_on_the_bus_and_follows_the_events(system, shell, storage_env):
    [program] = [block for block in fenced_blocks("python") if "nats.connect" in block]
    env = {**os.environ, "NATS_URL": system.nats.url, "S3_ENDPOINT": storage_env["AIORCH_S3_ENDPOINT"],
           "S3_ACCESS_KEY": storage_env["AIORCH_S3_ACCESS_KEY"],
           "S3_SECRET_KEY": storage_env["AIORCH_S3_SECRET_KEY"], "S3_BUCKET": storage_env["AIORCH_S3_BUCKET"]}
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "submitted" and "completed" in lines, lines
    assert "Sentiment" in done.stdout, done.stdout
    # The task is crm's: an admin sees it, the README's key (another principal) does not.
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    listed = system.http.get("/v1/tasks", params={"limit": 50}, headers=admin).json()["tasks"]
    mine = [item for item in listed if item["task_id"].startswith("t_crm_")]
    assert mine and mine[0]["owner"] == "crm", mine
    assert system.http.get(f"/v1/tasks/{mine[0]['task_id']}").status_code == 404
