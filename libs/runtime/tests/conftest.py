"""Both storage backends for the runtime's tests: a local folder, and moto's real S3 API server."""

import uuid

import pytest

from aiorch.runtime.storage import LocalObjectStore, S3ObjectStore


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    server = request.getfixturevalue("moto_s3")
    return S3ObjectStore(server.endpoint, "testing", "testing-secret", f"aiorch-{uuid.uuid4().hex[:12]}", secure=False)
