"""The whole system as real processes: nats-server, planner, agents, gateway."""

import hashlib
import os
import tempfile
import uuid
from pathlib import Path

import pytest

from aiorch.runtime.local import LocalSystem

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
def storage_backend(request) -> str:
    """Where the system keeps files: the local folder, unless a module runs on both with
    `pytestmark = ON_BOTH_BACKENDS`."""
    return getattr(request, "param", "local")


ON_BOTH_BACKENDS = pytest.mark.parametrize("storage_backend", ["local", "s3"], indirect=True, scope="module")
"""Every test of the module runs on the local folder and on S3 (moto)."""


@pytest.fixture(scope="module")
def storage_env(storage_backend, request) -> dict[str, str]:
    """The services' settings for the chosen backend: a local folder, or a bucket of its own
    on a real S3 API server (moto)."""
    if storage_backend == "local":
        return {}
    endpoint = request.getfixturevalue("moto_s3").endpoint
    return {
        "AIORCH_STORAGE_BACKEND": "s3", "AIORCH_S3_ENDPOINT": endpoint, "AIORCH_S3_ACCESS_KEY": "testing",
        "AIORCH_S3_SECRET_KEY": "testing-secret", "AIORCH_S3_SECURE": "false",
        "AIORCH_S3_BUCKET": f"aiorch-{uuid.uuid4().hex[:12]}",
    }


@pytest.fixture(scope="module")
def system(storage_env):
    with tempfile.TemporaryDirectory(prefix="aiorch-e2e-") as root:
        running = make_system(Path(root), AIORCH_MAX_UPLOAD_BYTES=str(4 * 1024 * 1024), **storage_env)
        yield running
        running.stop()


@pytest.fixture
def fresh_system(tmp_path, storage_env):
    """A system of its own, for tests that kill and restart services."""
    systems = []

    def make(**env) -> LocalSystem:
        systems.append(make_system(tmp_path, **{**storage_env, **env}))
        return systems[-1]

    yield make
    for running in systems:
        running.stop()
