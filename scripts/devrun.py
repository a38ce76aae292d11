"""`make run`: nats-server with JetStream, the planner, every agent and the gateway as
local processes with local file storage. Prints the URLs and the API key; Ctrl-C stops all."""

import os
import secrets
import signal
import sys
import time
from pathlib import Path

from aiorch.runtime.testing import LocalSystem, agent_modules

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".data"
ENV_FILE = ROOT / ".env.local"
BROWSER_PYTHON = ROOT / ".venv-browser" / "bin" / "python"


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
    port = int(os.environ.get("AIORCH_PORT", "8000"))
    system = LocalSystem(
        DATA, DATA / "logs", key, nats_port=int(os.environ.get("AIORCH_NATS_PORT", "4222")), gateway_port=port,
        health_ports={name: 9100 + index for index, name in enumerate(
            ["planner", *(module.rsplit(".", 1)[-1] for module in agent_modules())])},
        ui_port=int(os.environ.get("AIORCH_UI_PORT", "8501")),
        # The browser agent runs where browser-use is installed, for its LLM mode.
        service_python={"browser": str(BROWSER_PYTHON)} if BROWSER_PYTHON.exists() else None,
    )
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        system.start()
        print(
            f"\naiorch is running\n"
            f"  web UI    http://127.0.0.1:{system.ui_port}\n"
            f"  gateway   http://127.0.0.1:{port}   (API docs: http://127.0.0.1:{port}/docs)\n"
            f"  NATS      {system.nats.url}\n"
            f"  logs      {system.log_dir}\n"
            f"  API key   {key}\n\n"
            f"Try:\n  curl -s -H 'Authorization: Bearer {key}' -F 'request=What is the sentiment of \"I love it\"?' "
            f"http://127.0.0.1:{port}/v1/tasks\n\nCtrl-C stops everything.",
            flush=True,
        )
        while all(service.process.poll() is None for service in system.services.values()):
            time.sleep(0.5)
        for service in system.services.values():
            if service.process.poll() is not None:
                print(f"{service.module} exited; the end of its log:\n{service.log()[-2000:]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        system.stop()


if __name__ == "__main__":
    sys.exit(main())
