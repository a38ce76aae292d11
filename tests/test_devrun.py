"""`make run` (scripts/devrun.py) as a user meets it, with real processes: it refuses at once
when a port is taken or another run holds its data folder, restarts an agent killed with
SIGKILL while the gateway keeps serving, and stops everything within 5 s on Ctrl-C.
Only the sentiment agent runs, without the UI, to keep it quick."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from aiorch.runtime.local import free_port

pytestmark = pytest.mark.e2e

DEVRUN = Path(__file__).resolve().parents[1] / "scripts" / "devrun.py"
KEY = "devrun-key-0123456789abcdef"


def devrun_env(data: Path, **ports: int) -> dict[str, str]:
    return {
        **os.environ, "AIORCH_RUN_DATA": str(data), "AIORCH_API_KEYS": KEY, "AIORCH_RUN_AGENTS": "sentiment",
        "AIORCH_UI_PORT": "0", "AIORCH_PORT": str(ports.get("gateway") or free_port()),
        "AIORCH_NATS_PORT": str(ports.get("nats") or free_port()),
        # planner and sentiment take the two ports from here: free ones, far from the ephemeral range
        "AIORCH_RUN_HEALTH_PORTS": str(ports.get("health") or free_health_ports()),
    }


def free_health_ports() -> int:
    """A port p where p and p + 1 are free (the planner's and the sentiment agent's health)."""
    for _ in range(100):
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no two adjacent free ports")


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except OSError:
        return True


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(proc.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


class Run:
    """`python scripts/devrun.py` in its own process group, as a terminal's foreground job."""

    def __init__(self, env: dict[str, str], out: Path) -> None:
        self.out = out
        self.env = env
        with out.open("wb") as sink:
            self.process = subprocess.Popen([sys.executable, str(DEVRUN)], env=env, stdout=sink,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text())
            if found:
                return found
            if self.process.poll() is not None:
                pytest.fail(f"make run exited ({self.process.returncode}):\n{self.text()}")
            time.sleep(0.2)
        pytest.fail(f"no {pattern!r} after {timeout}s:\n{self.text()}")

    def ctrl_c(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def kill_all(self) -> None:
        for pid in [self.process.pid, *descendants(self.process.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()


def test_a_taken_port_is_named_at_once(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        began = time.monotonic()
        run = subprocess.run([sys.executable, str(DEVRUN)], env=devrun_env(tmp_path / "data", nats=port),
                             capture_output=True, text=True, timeout=60)
    took = time.monotonic() - began
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"port {port} (NATS) is taken by pid {os.getpid()}" in run.stderr
    assert "aiorch is running" not in run.stdout and "NATS ready" not in run.stdout
    assert took < 15, took  # interpreter start and imports on a loaded machine; nothing waits


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    root = tmp_path_factory.mktemp("devrun")
    run = Run(devrun_env(root / "data"), root / "out.log")
    try:
        run.wait_for(r"aiorch is running", timeout=300)
        yield run
    finally:
        if run.process.poll() is None:
            run.kill_all()


@pytest.mark.slow
def test_a_second_run_refuses_at_once(running):
    began = time.monotonic()
    second = subprocess.run([sys.executable, str(DEVRUN)], env=running.env, capture_output=True, text=True,
                            timeout=60)
    assert second.returncode == 1
    assert f"already running from {running.env['AIORCH_RUN_DATA']} (pid {running.process.pid})" in second.stderr
    assert "aiorch is running" not in second.stdout
    assert time.monotonic() - began < 15
    assert running.process.poll() is None


@pytest.mark.slow
def test_a_killed_agent_is_restarted_while_the_gateway_serves(running):
    gateway_pid = int(running.wait_for(r"gateway\s+pid (\d+)", 1).group(1))
    agent_pid = int(running.wait_for(r"sentiment\s+pid (\d+)", 1).group(1))
    url = f"http://127.0.0.1:{running.env['AIORCH_PORT']}"
    failures: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                status = httpx.get(f"{url}/healthz", timeout=10).status_code
                if status != 200:
                    failures.append(str(status))
            except httpx.HTTPError as error:
                failures.append(repr(error))
            stop.wait(0.5)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        os.kill(agent_pid, signal.SIGKILL)
        running.wait_for(r"sentiment exited \(killed by SIGKILL\); restarting it in \d+s", 30)
        restarted = int(running.wait_for(r"sentiment restarted \(pid (\d+), restart 1\)", 30).group(1))
        running.wait_for(r"sentiment is serving again", 180)
    finally:
        stop.set()
        watcher.join()
    assert restarted != agent_pid
    assert not failures, failures
    assert not gone(gateway_pid)

    headers = {"Authorization": f"Bearer {KEY}"}
    response = httpx.post(f"{url}/v1/tasks", json={"request": 'What is the sentiment of "I love it"?'},
                          headers=headers, timeout=30)
    assert response.status_code == 202, response.text
    task_id = response.json()["task_id"]
    deadline = time.monotonic() + 120
    while (record := httpx.get(f"{url}/v1/tasks/{task_id}", headers=headers, timeout=30).json())["status"] not in (
        "completed", "failed", "cancelled"
    ):
        assert time.monotonic() < deadline, record
        time.sleep(0.5)
    assert record["status"] == "completed", record
    assert running.process.poll() is None


@pytest.mark.slow
def test_ctrl_c_stops_everything_within_5_s(running):
    processes = descendants(running.process.pid)
    assert len(processes) >= 4  # nats-server, planner, sentiment, gateway (and their children)
    began = time.monotonic()
    running.ctrl_c()
    running.process.wait(10)
    while time.monotonic() - began < 5 and not all(gone(pid) for pid in processes):
        time.sleep(0.05)
    took = time.monotonic() - began
    assert all(gone(pid) for pid in processes), [pid for pid in processes if not gone(pid)]
    assert took < 5, took
    assert running.process.returncode == 0
    assert "stopped" in running.text()
