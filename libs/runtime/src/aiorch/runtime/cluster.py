"""A NATS cluster on loopback for tests and benchmarks: three (or more) `nats-server`
processes with routes between them, JetStream on each with its own store folder, so
streams can be R3. Nodes can be killed (SIGKILL, as a crash) and started again on the
same ports and store, to catch up from the others.

    with NatsCluster(tmp_path) as cluster:          # started, JetStream meta leader elected
        system = cluster_system(cluster, root, logs, key)   # the whole aiorch on it, R3
        cluster.node(cluster.stream_leader("AIORCH_TASKS")).kill()
"""

import json
import subprocess
import time
import urllib.request
from pathlib import Path

from .local import LocalSystem, free_port, nats_server_binary, wait_for_port


class ClusterNode:
    """One nats-server of the cluster; its ports and store survive a restart."""

    def __init__(self, name: str, root: Path, cluster_name: str, log_dir: Path | None = None) -> None:
        self.name = name
        self.port, self.cluster_port, self.monitor_port = free_port(), free_port(), free_port()
        self.store_dir = root / name
        self.config_file = root / f"{name}.conf"
        self.log_file = (log_dir or root) / f"nats-{name}.log"
        self.cluster_name = cluster_name
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def write_config(self, peers: list["ClusterNode"]) -> None:
        routes = ", ".join(f'"nats://127.0.0.1:{peer.cluster_port}"' for peer in peers if peer is not self)
        self.config_file.write_text(
            f"server_name: {self.name}\n"
            f"listen: 127.0.0.1:{self.port}\n"
            f"http: 127.0.0.1:{self.monitor_port}\n"
            f"jetstream {{ store_dir: {json.dumps(str(self.store_dir))}, max_memory_store: 256MB, "
            f"max_file_store: 4GB }}\n"
            f"cluster {{ name: {self.cluster_name}, listen: 127.0.0.1:{self.cluster_port}, routes: [{routes}] }}\n"
        )

    def start(self) -> "ClusterNode":
        self.store_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen([nats_server_binary(), "-c", str(self.config_file)], stdout=log,
                                            stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.port, process=self.process)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{self.log()[-2000:]}") from None
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed or handed over."""
        if self.running:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def monitor(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}{path}", timeout=5) as response:
            return json.loads(response.read())

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""


class NatsCluster:
    """`size` clustered nats-servers with JetStream on loopback."""

    def __init__(self, root: Path, size: int = 3, name: str = "aiorch-test", log_dir: Path | None = None) -> None:
        self.root = root
        for folder in (root, log_dir):
            if folder:
                folder.mkdir(parents=True, exist_ok=True)
        self.nodes = [ClusterNode(f"n{index + 1}", root, name, log_dir) for index in range(size)]
        for node in self.nodes:
            node.write_config(self.nodes)

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        """Every node's URL, comma-separated, as AIORCH_NATS_URL takes them."""
        return ",".join(self.urls)

    def node(self, name: str) -> ClusterNode:
        return next(node for node in self.nodes if node.name == name)

    def start(self, timeout: float = 60.0) -> "NatsCluster":
        self.root.mkdir(parents=True, exist_ok=True)
        for node in self.nodes:
            if not node.running:
                node.start()
        self.wait_healthy(timeout)
        return self

    def stop(self, *_) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> "NatsCluster":
        return self.start()

    def __exit__(self, *_) -> None:
        self.stop()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Until every running node sees its routes and a JetStream meta leader, and
        reports its streams current (`/healthz`: caught up after a restart)."""
        deadline = time.monotonic() + timeout
        problem = "not checked"
        while time.monotonic() < deadline:
            problem = self._problem()
            if problem is None:
                return
            time.sleep(0.2)
        raise TimeoutError(f"NATS cluster not healthy after {timeout}s: {problem}")

    def _problem(self) -> str | None:
        running = [node for node in self.nodes if node.running]
        for node in running:
            try:
                routes = node.monitor("/routez")["num_routes"]
                meta = node.monitor("/jsz").get("meta_cluster") or {}
                health = node.monitor("/healthz")
            except Exception as exc:  # not answering yet, or answering 503 while catching up
                return f"{node.name}: {exc}"
            if routes < len(running) - 1:
                return f"{node.name}: {routes} routes of {len(running) - 1}"
            if not meta.get("leader"):
                return f"{node.name}: no JetStream meta leader"
            if health.get("status") != "ok":
                return f"{node.name}: {health}"
        return None

    def stream_leader(self, stream: str, account: str = "$G") -> str | None:
        """The name of the node that leads `stream` (None while it has no leader)."""
        for node in self.nodes:
            if not node.running:
                continue
            try:
                jsz = node.monitor(f"/jsz?accounts=true&streams=true&acc={account}")
            except Exception:
                continue
            for detail in jsz.get("account_details", []):
                for info in detail.get("stream_detail", []):
                    if info["name"] == stream and (info.get("cluster") or {}).get("leader"):
                        return info["cluster"]["leader"]
        return None

    def stream_state(self, node: ClusterNode, stream: str, account: str = "$G") -> dict | None:
        """`stream`'s state as `node` stores it (messages, first and last sequence)."""
        jsz = node.monitor(f"/jsz?accounts=true&streams=true&acc={account}")
        for detail in jsz.get("account_details", []):
            for info in detail.get("stream_detail", []):
                if info["name"] == stream:
                    return info["state"]
        return None


def cluster_system(cluster: NatsCluster, root: Path, log_dir: Path, key: str, replicas: int = 3,
                   **kwargs) -> LocalSystem:
    """A LocalSystem (not started) whose services use `cluster`, streams and bucket at `replicas`.

    The system's `nats` is the cluster: its start() and stop() start and stop the cluster."""
    env = {"AIORCH_NATS_URL": cluster.url, "AIORCH_NATS_REPLICAS": str(replicas)}
    system = LocalSystem(root, log_dir, key, **{**kwargs, **env})
    system.nats = cluster
    return system
