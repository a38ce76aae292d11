"""The whole system on a three-node NATS cluster (R3 streams and bucket), started once for
the module: sentiment is the only agent (cheap), logs under test-artifacts/logs/cluster-*."""

import os
import tempfile
from pathlib import Path

import pytest

from aiorch.runtime.cluster import NatsCluster, cluster_system

ARTIFACTS = Path(os.environ.get("AIORCH_TEST_ARTIFACTS", "test-artifacts"))
KEY = "cluster-key-0123456789abcdef"


def pytest_configure(config):
    config.addinivalue_line("markers", "cluster_full: the 1,000-task cluster run (AIORCH_CLUSTER_FULL=1 runs it)")


@pytest.fixture(scope="module")
def cluster_and_system():
    with tempfile.TemporaryDirectory(prefix="aiorch-cluster-") as root:
        root = Path(root)
        logs = ARTIFACTS / "logs" / root.name
        cluster = NatsCluster(root / "nats-cluster", log_dir=logs)
        system = cluster_system(
            cluster, root, logs, KEY, agents=["aiorch.sentiment"],
            AIORCH_LOG_LEVEL="WARNING",
            # Recover quickly from what a dying node took with it: an agent's unacknowledged
            # step comes back after 10 s (its heartbeat keeps long steps alive), the planner
            # looks for steps without a live dispatch every 5 s.
            AIORCH_ACK_WAIT_S="10", AIORCH_SWEEP_INTERVAL_S="5",
        )
        try:
            system.start()
            yield cluster, system
        finally:
            system.stop()
            cluster.stop()
