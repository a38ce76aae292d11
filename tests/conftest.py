"""The whole system as real processes: nats-server, planner, agents, gateway."""

import hashlib
import os
import tempfile
from pathlib import Path

import pytest

from aiorch.runtime.testing import LocalSystem

ARTIFACTS = Path(os.environ.get("AIORCH_TEST_ARTIFACTS", "test-artifacts"))
KEY = "test-key-0123456789abcdef"
ADMIN_KEY = "admin-key-0123456789abcdef"
"""An admin principal (keys file) besides KEY: sees tasks of every owner, ownerless ones too."""


def make_system(root: Path, service_env: dict | None = None, service_python: dict | None = None,
                **env: str) -> LocalSystem:
    keys = root / "api-keys"
    keys.write_text(f"admin admin {hashlib.sha256(ADMIN_KEY.encode()).hexdigest()}\n")
    env = {"AIORCH_API_KEYS_FILE": str(keys), **env}
    return LocalSystem(root, ARTIFACTS / "logs" / root.name, KEY, service_env=service_env,
                       service_python=service_python, **env).start()


@pytest.fixture(scope="module")
def system():
    with tempfile.TemporaryDirectory(prefix="aiorch-e2e-") as root:
        running = make_system(Path(root), AIORCH_MAX_UPLOAD_BYTES=str(4 * 1024 * 1024))
        yield running
        running.stop()


@pytest.fixture
def fresh_system(tmp_path):
    """A system of its own, for tests that kill and restart services."""
    systems = []

    def make(**env) -> LocalSystem:
        systems.append(make_system(tmp_path, **env))
        return systems[-1]

    yield make
    for running in systems:
        running.stop()
