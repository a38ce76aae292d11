import subprocess
import sys

import pytest
from pydantic import ValidationError

from aiorch.runtime.settings import ServiceSettings


def test_s3_backend_needs_its_endpoint_and_keys(monkeypatch):
    monkeypatch.setenv("AIORCH_STORAGE_BACKEND", "s3")
    with pytest.raises(ValidationError, match="AIORCH_S3_ENDPOINT"):
        ServiceSettings()


def test_prod_refuses_default_minio_credentials_and_anonymous_nats(monkeypatch):
    for name, value in {"AIORCH_ENV": "prod", "AIORCH_STORAGE_BACKEND": "s3", "AIORCH_S3_ENDPOINT": "minio:9000",
                        "AIORCH_S3_ACCESS_KEY": "minioadmin", "AIORCH_S3_SECRET_KEY": "minioadmin",
                        "AIORCH_NATS_USER": "planner"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="well-known default"):
        ServiceSettings()
    monkeypatch.setenv("AIORCH_S3_SECRET_KEY", "a-real-secret-value")
    monkeypatch.delenv("AIORCH_NATS_USER")
    with pytest.raises(ValidationError, match="NATS credentials"):
        ServiceSettings()


def test_a_service_with_bad_settings_exits_with_a_clear_message_and_no_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "AIORCH_API_KEYS": "short"}
    done = subprocess.run([sys.executable, "-m", "aiorch.gateway"], env=env, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert "at least 16 characters" in done.stderr and "Traceback" not in done.stderr
