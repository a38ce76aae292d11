"""`make run`: nats-server with JetStream, the planner, every agent and the gateway as
local processes with local file storage. Prints the URLs and the API key; Ctrl-C stops all."""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "libs/runtime/src"))
from aiorch.runtime.testing import NatsServer, ServiceProcess  # noqa: E402

DATA = ROOT / ".data"
ENV_FILE = ROOT / ".env.local"
NATS_PORT = int(os.environ.get("AIORCH_NATS_PORT", "4222"))
GATEWAY_PORT = int(os.environ.get("AIORCH_PORT", "8000"))
# module, health port
SERVICES = [("aiorch.planner", 9100), ("aiorch.sentiment", 9101)]


def api_key() -> str:
    """A local key, made once and kept in .env.local (git-ignored)."""
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text().splitlines():
            if line.startswith("AIORCH_API_KEYS="):
                return line.split("=", 1)[1].strip()
    key = "local-" + secrets.token_urlsafe(24)
    with ENV_FILE.open("a") as env:
        env.write(f"AIORCH_API_KEYS={key}\n")
    ENV_FILE.chmod(0o600)
    return key


def main() -> int:
    key = api_key()
    logs = DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (DATA / "nats").mkdir(parents=True, exist_ok=True)
    nats = NatsServer(DATA / "nats", port=NATS_PORT).start()
    env = {
        "AIORCH_NATS_URL": nats.url,
        "AIORCH_STORAGE_PATH": str(DATA / "objects"),
        "AIORCH_NLTK_DATA": str(DATA / "nltk_data"),
        "AIORCH_API_KEYS": key,
        "AIORCH_PORT": str(GATEWAY_PORT),
    }
    processes = []
    try:
        for module, port in SERVICES:
            processes.append(ServiceProcess(module, env, logs, health_port=port).start())
        processes.append(ServiceProcess("aiorch.gateway", env, logs, health_port=GATEWAY_PORT).start())
        print(
            f"\naiorch is running\n"
            f"  gateway   http://127.0.0.1:{GATEWAY_PORT}   (API docs: http://127.0.0.1:{GATEWAY_PORT}/docs)\n"
            f"  NATS      {nats.url}\n"
            f"  logs      {logs}\n"
            f"  API key   {key}\n\n"
            f"Try:\n  curl -s -H 'Authorization: Bearer {key}' -F 'request=What is the sentiment of \"I love it\"?' "
            f"http://127.0.0.1:{GATEWAY_PORT}/v1/tasks\n\nCtrl-C stops everything.",
            flush=True,
        )
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
        while all(process.process.poll() is None for process in processes):
            time.sleep(0.5)
        dead = [process for process in processes if process.process.poll() is not None]
        for process in dead:
            print(f"{process.module} exited; its log:\n{process.log()[-2000:]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in reversed(processes):
            process.stop()
        nats.stop()


if __name__ == "__main__":
    sys.exit(main())
