"""The whole system as real processes: nats-server, planner, sentiment, gateway."""

import json
import os
import tempfile
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from aiorch.runtime.testing import NatsServer, ServiceProcess, free_port

ARTIFACTS = Path(os.environ.get("AIORCH_TEST_ARTIFACTS", "test-artifacts"))
AGENTS = ["aiorch.sentiment"]


class System:
    def __init__(self, root: Path, **env: str) -> None:
        self.root = root
        self.key = "test-key-0123456789abcdef"
        self.nats = NatsServer(root / "nats")
        self.gateway_port = free_port()
        self.log_dir = ARTIFACTS / "logs" / root.name
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            "AIORCH_NATS_URL": self.nats.url, "AIORCH_STORAGE_PATH": str(root / "objects"),
            "AIORCH_NLTK_DATA": str(root / "nltk"), "AIORCH_API_KEYS": self.key,
            "AIORCH_PORT": str(self.gateway_port), "AIORCH_LOG_LEVEL": "INFO", **env,
        }
        self.services: dict[str, ServiceProcess] = {}

    def start(self) -> "System":
        (self.root / "nats").mkdir(parents=True, exist_ok=True)
        self.nats.start()
        for module in ["aiorch.planner", *AGENTS]:
            self.start_service(module)
        self.start_service("aiorch.gateway", health_port=self.gateway_port)
        self.http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30)
        return self

    def start_service(self, module: str, health_port: int | None = None) -> ServiceProcess:
        service = ServiceProcess(module, self.env, self.log_dir, health_port=health_port)
        self.services[module.rsplit(".", 1)[-1]] = service
        return service.start()

    def stop(self) -> None:
        for service in self.services.values():
            service.stop()
        self.nats.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def submit(self, request: str, files: dict | None = None, params: dict | None = None) -> str:
        if files:
            data = {"request": request, **({"params": json.dumps(params)} if params else {})}
            response = self.http.post("/v1/tasks", data=data, files=[("files", f) for f in files.items()])
        else:
            response = self.http.post("/v1/tasks", json={"request": request, "params": params or {}})
        assert response.status_code == 202, response.text
        return response.json()["task_id"]

    def events(self, task_id: str, after: int = 0, timeout: float = 60, until=None) -> list[dict]:
        """Events over the WebSocket until the task ends (or `until(event)` is true)."""
        url = f"ws://127.0.0.1:{self.gateway_port}/v1/tasks/{task_id}/events?after={after}"
        received = []
        with connect(url, additional_headers={"Authorization": f"Bearer {self.key}"}, open_timeout=10) as ws:
            while True:
                try:
                    message = ws.recv(timeout=timeout)
                except Exception:  # closed by the server after the terminal event
                    return received
                received.append(json.loads(message))
                if until is not None and until(received[-1]):
                    return received

    def task(self, task_id: str) -> dict:
        return self.http.get(f"/v1/tasks/{task_id}").json()


@pytest.fixture(scope="module")
def system():
    with tempfile.TemporaryDirectory(prefix="aiorch-e2e-") as root:
        running = System(Path(root), AIORCH_MAX_UPLOAD_BYTES=str(4 * 1024 * 1024)).start()
        yield running
        running.stop()


@pytest.fixture
def fresh_system(tmp_path):
    """A system of its own, for tests that kill and restart services."""
    systems = []

    def make(**env) -> System:
        systems.append(System(tmp_path, **env).start())
        return systems[-1]

    yield make
    for running in systems:
        running.stop()
