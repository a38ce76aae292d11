"""A system with several principals (a keys file), files in moto's S3 server: shared by the
ownership tests and the OpenAPI contract run, started once."""

import hashlib
import os
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest

from aiorch.runtime.storage import S3ObjectStore
from aiorch.runtime.local import LocalSystem

ARTIFACTS = Path(os.environ.get("AIORCH_TEST_ARTIFACTS", "test-artifacts"))
KEYS = {name: f"{name}-key-0123456789abcdef" for name in ("alice", "bob", "root", "viewer", "brief", "fuzz")}
LINES = {
    "alice": "alice submit,read", "bob": "bob submit,read", "root": "root admin", "viewer": "viewer read",
    "brief": "brief submit,read {} retention=2s", "fuzz": "fuzz submit,read",
}
ROWS = b"id,comment\n1,Absolutely wonderful stay\n2,Terrible food and awful service\n"


def keys_file(names) -> str:
    lines = []
    for name in names:
        digest = hashlib.sha256(KEYS[name].encode()).hexdigest()
        line = LINES[name]
        lines.append(line.format(digest) if "{}" in line else f"{line} {digest}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def keyed_world(moto_s3):
    bucket = f"aiorch-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory(prefix="aiorch-principals-") as root:
        path = Path(root) / "keys"
        path.write_text(keys_file(KEYS))
        system = LocalSystem(
            Path(root), ARTIFACTS / "logs" / "principals", "env-key-0123456789abcdef", agents=["aiorch.sentiment"],
            AIORCH_API_KEYS_FILE=str(path), AIORCH_RETENTION_SWEEP_S="1", AIORCH_STORAGE_BACKEND="s3",
            AIORCH_S3_ENDPOINT=moto_s3.endpoint, AIORCH_S3_ACCESS_KEY="testing", AIORCH_S3_SECRET_KEY="testing-secret",
            AIORCH_S3_SECURE="false", AIORCH_S3_BUCKET=bucket,
        )
        system.start_timeout = 180
        system.start()
        store = S3ObjectStore(moto_s3.endpoint, "testing", "testing-secret", bucket, secure=False)
        clients = {name: httpx.Client(base_url=system.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
                   for name, key in KEYS.items()}
        yield system, clients, store, path, KEYS, keys_file
        system.stop()


