"""`make run`: nats-server with JetStream, the planner, every agent, the gateway and the UI as
local processes with local file storage. Prints the URLs and the API key; a service that
exits is restarted (with backoff) while the others keep serving; Ctrl-C stops all.

Refuses at once, saying why, when another `make run` uses the same data folder or a port it
needs is taken. Settings (environment): AIORCH_PORT (gateway, 8000), AIORCH_NATS_PORT (4222),
AIORCH_UI_PORT (8501; 0: no UI), AIORCH_RUN_HEALTH_PORTS (first health port, 9100),
AIORCH_RUN_AGENTS (e.g. "sentiment,csv"; every agent by default), AIORCH_RUN_DATA (.data)."""

import fcntl
import importlib.util
import os
import secrets
import signal
import sys
import time
from pathlib import Path

from aiorch.runtime.local import LocalSystem, PortTaken, Supervisor, agent_modules

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("AIORCH_RUN_DATA") or ROOT / ".data")
ENV_FILE = ROOT / ".env.local"
BROWSER_PYTHON = ROOT / ".venv-browser" / "bin" / "python"


def api_key() -> str:
    """AIORCH_API_KEYS when set, else a local key made once and kept in .env.local (git-ignored)."""
    if os.environ.get("AIORCH_API_KEYS"):
        return os.environ["AIORCH_API_KEYS"]
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text().splitlines():
            if line.startswith("AIORCH_API_KEYS="):
                return line.split("=", 1)[1].strip()
    key = "local-" + secrets.token_urlsafe(24)
    with ENV_FILE.open("a") as env:
        env.write(f"AIORCH_API_KEYS={key}\n")
    ENV_FILE.chmod(0o600)
    return key


def hold_lock():
    """The data folder's lock, held while this process lives; None when another run holds it."""
    DATA.mkdir(parents=True, exist_ok=True)
    lock = (DATA / "run.lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        print(f"make run: aiorch is already running from {DATA} ({lock.read().strip() or 'pid unknown'}). "
              f"Use that one, or stop it first (Ctrl-C in its terminal).", file=sys.stderr, flush=True)
        return None
    lock.truncate(0)
    lock.write(f"pid {os.getpid()}\n")
    lock.flush()
    return lock


def say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def main() -> int:
    lock = hold_lock()
    if lock is None:
        return 1
    key = api_key()
    port = int(os.environ.get("AIORCH_PORT", "8000"))
    first_health = int(os.environ.get("AIORCH_RUN_HEALTH_PORTS", "9100"))
    names = [module.rsplit(".", 1)[-1] for module in agent_modules()]
    chosen = [name.strip() for name in os.environ.get("AIORCH_RUN_AGENTS", "").split(",") if name.strip()]
    unknown = sorted(name for name in chosen if name not in names and importlib.util.find_spec(f"aiorch.{name}") is None)
    if unknown:
        print(f"make run: unknown agents in AIORCH_RUN_AGENTS: {', '.join(unknown)} (known: {', '.join(names)})",
              file=sys.stderr)
        return 1
    names += [name for name in chosen if name not in names]
    system = LocalSystem(
        DATA, DATA / "logs", key, nats_port=int(os.environ.get("AIORCH_NATS_PORT", "4222")), gateway_port=port,
        health_ports={name: first_health + index for index, name in enumerate(["planner", *names])},
        ui_port=int(os.environ.get("AIORCH_UI_PORT", "8501")) or None,
        agents=[f"aiorch.{name}" for name in chosen] if chosen else None,
        # The browser agent runs where browser-use is installed, for its LLM mode.
        service_python={"browser": str(BROWSER_PYTHON)} if BROWSER_PYTHON.exists() else None,
        groups=True, say=say,
    )
    try:
        system.check_ports()
    except PortTaken as taken:
        print(f"make run: cannot start:\n{taken}\nStop what holds them, or choose other ports "
              f"(AIORCH_NATS_PORT, AIORCH_PORT, AIORCH_UI_PORT, AIORCH_RUN_HEALTH_PORTS).", file=sys.stderr, flush=True)
        return 1

    def interrupted(*_) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)  # even where it came in ignored (started in the background)
    try:
        say(f"starting aiorch; logs in {system.log_dir}")
        system.start()
        services = "\n".join(
            f"  {name:<10} pid {service.process.pid:<8} log {service.log_path}" for name, service in system.services.items()
        )
        ui = f"  web UI    http://127.0.0.1:{system.ui_port}\n" if system.ui_port else ""
        print(
            f"\naiorch is running\n{ui}"
            f"  gateway   http://127.0.0.1:{port}   (API docs: http://127.0.0.1:{port}/docs)\n"
            f"  NATS      {system.nats.url}   (log {system.nats.log_path})\n"
            f"  API key   {key}\n\n{services}\n\n"
            f"Try:\n  curl -s -H 'Authorization: Bearer {key}' -F 'request=What is the sentiment of \"I love it\"?' "
            f"http://127.0.0.1:{port}/v1/tasks\n\n"
            f"A service that exits is restarted; Ctrl-C stops everything.",
            flush=True,
        )
        Supervisor(system, say=say).run()
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, TimeoutError) as error:
        print(f"make run: could not start: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("stopping")
        system.stop(grace=2.0)
        say("stopped")
    return 1


if __name__ == "__main__":
    sys.exit(main())
