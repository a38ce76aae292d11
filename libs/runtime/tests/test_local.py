"""The launcher's own checks, fast, with a real nats-server: a taken port is named with its
process, nats-server's output reaches its log (and the error when it cannot start), and the
supervisor restarts a killed process with growing delays."""

import os
import signal
import socket
import time

import pytest

from aiorch.runtime.local import LocalSystem, NatsServer, PortTaken, Supervisor, port_free, port_open, port_owner


@pytest.fixture
def held():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_the_owner_of_a_taken_port_is_named(held):
    assert not port_free(held)
    assert port_owner(held).startswith(f"pid {os.getpid()} (")


def test_check_ports_names_each_taken_port_before_starting_anything(tmp_path, held):
    system = LocalSystem(tmp_path, tmp_path / "logs", "k" * 24, nats_port=held, ui_port=None, agents=[],
                         health_ports={"planner": held})
    with pytest.raises(PortTaken) as taken:
        system.start()
    message = str(taken.value)
    assert f"port {held} (NATS) is taken by pid {os.getpid()}" in message
    assert system.nats.process is None and not system.services


def test_nats_server_refuses_a_taken_port(tmp_path, held):
    with pytest.raises(PortTaken, match=f"port {held} \\(NATS\\) is taken by pid {os.getpid()}"):
        NatsServer(tmp_path / "nats", port=held).start()


def test_nats_server_output_goes_to_its_log_and_into_the_error(tmp_path):
    config = tmp_path / "bad.conf"
    config.write_text("jetstream {\n")
    nats = NatsServer(tmp_path / "nats", config_file=config, log_path=tmp_path / "nats.log")
    with pytest.raises(RuntimeError, match=f"nats-server on port {nats.port} did not start") as failed:
        nats.start()
    logged = (tmp_path / "nats.log").read_text()
    assert "Parse error" in logged
    assert logged.strip().splitlines()[-1] in str(failed.value)


def test_the_supervisor_restarts_a_killed_process_with_backoff(tmp_path):
    system = LocalSystem(tmp_path, tmp_path / "logs", "k" * 24, agents=[], groups=True)
    (tmp_path / "logs").mkdir()
    system.nats.start()
    said: list[str] = []
    supervisor = Supervisor(system, say=said.append, first_delay=0.2, max_delay=0.4)
    try:
        for round, delay in enumerate(["0.2s", "0.4s", "0.4s"], start=1):
            killed = system.nats.process.pid
            os.kill(killed, signal.SIGKILL)
            deadline = time.monotonic() + 15
            while not any("nats-server is serving again" in line for line in said):
                assert time.monotonic() < deadline, said
                supervisor.check()
                time.sleep(0.05)
            assert f"nats-server exited (killed by SIGKILL); restarting it in {delay}" in said[0]
            assert f"restart {round})" in said[1]
            assert system.nats.process.pid != killed and port_open(system.nats.port)
            said.clear()
    finally:
        system.stop(grace=2)
    assert system.nats.process.poll() is not None
