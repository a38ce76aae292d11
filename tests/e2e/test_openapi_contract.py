"""The gateway's OpenAPI document is exact: schemathesis (every check, seeded, bounded) finds
nothing against the real gateway over real NATS, and a client generated from the document
submits, waits and downloads."""

import importlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
CONFIG = Path(__file__).with_name("schemathesis.toml")
MIN_CASES = 1000


def test_schemathesis_finds_no_failure(keyed_world, tmp_path):
    system, _, _, _, keys, _ = keyed_world
    command = [
        str(BIN / "schemathesis"), "--config-file", str(CONFIG), "run", f"{system.url}/openapi.json",
        "-H", f"Authorization: Bearer {keys['fuzz']}", "--checks", "all", "--seed", "20261130",
        "--max-examples", "60", "--workers", "1", "--no-color", "--request-timeout", "20",
        "--report", "junit", "--report-dir", str(tmp_path),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    generated = re.search(r"(\d+) generated", output)
    assert generated and int(generated.group(1)) >= MIN_CASES, output[-2000:]
    assert "No issues found" in output or " passed" in output, output[-2000:]


def test_the_document_declares_security_and_resolves(keyed_world):
    system = keyed_world[0]
    document = httpx.get(f"{system.url}/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearer"]["description"]}
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in document["components"]["schemas"], ref
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/"):
                assert operation["security"] == [{"bearer": []}] and "401" in operation["responses"], (method, path)
    assert httpx.post(f"{system.url}/v1/plan", json={"request": 5},
                      headers={"Authorization": f"Bearer {keyed_world[4]['fuzz']}"}).status_code == 422
    options = httpx.options(f"{system.url}/v1/tasks")
    assert options.status_code == 405 and options.headers["allow"] == "GET, POST"


def test_a_client_generated_from_the_document_submits_waits_and_downloads(keyed_world, tmp_path):
    system, _, _, _, keys, _ = keyed_world
    (tmp_path / "openapi.json").write_text(httpx.get(f"{system.url}/openapi.json").text)
    done = subprocess.run(
        [str(BIN / "openapi-python-client"), "generate", "--path", "openapi.json", "--meta", "none",
         "--output-path", "gateway_client"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env={"PATH": f"{BIN}:/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    _patch_missing_unset_import(tmp_path / "gateway_client")
    sys.path.insert(0, str(tmp_path))
    try:
        client_module = importlib.import_module("gateway_client")
        submit = importlib.import_module("gateway_client.api.tasks.submit_task_v1_tasks_post")
        get_task = importlib.import_module("gateway_client.api.tasks.get_task_v1_tasks_task_id_get")
        artifact = importlib.import_module("gateway_client.api.tasks.get_artifact_v1_tasks_task_id_artifacts_name_get")
        delete = importlib.import_module("gateway_client.api.tasks.delete_task_v1_tasks_task_id_delete")
        models = importlib.import_module("gateway_client.models")
        types = importlib.import_module("gateway_client.types")

        client = client_module.AuthenticatedClient(base_url=system.url, token=keys["fuzz"])
        rows = b"id,comment\n1,Absolutely wonderful stay\n2,Terrible food and awful service\n"
        body = models.SubmitTaskV1TasksPostFilesBody(
            request="sentiment of the comment column",
            files=[types.File(payload=rows, file_name="reviews.csv", mime_type="text/csv")],
        )
        accepted = submit.sync(client=client, body=body)
        assert isinstance(accepted, models.TaskAccepted), accepted
        deadline = time.monotonic() + 60
        while True:
            record = get_task.sync(client=client, task_id=accepted.task_id)
            assert isinstance(record, models.TaskRecord), record
            if record.status.value in ("completed", "failed"):
                break
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert record.status.value == "completed" and record.owner == "fuzz"
        download = artifact.sync_detailed(client=client, task_id=accepted.task_id, name="sentiment.csv")
        assert download.status_code == 200 and b"negative" in download.content
        missing = get_task.sync(client=client, task_id="t_000000000000nothing")
        assert isinstance(missing, models.Error)
        json_body = models.TaskCreate(request="sentiment of 'so good'")
        assert isinstance(submit.sync(client=client, body=json_body), models.TaskAccepted)
        assert delete.sync_detailed(client=client, task_id=accepted.task_id).status_code == 204
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.startswith("gateway_client")]:
            del sys.modules[name]


def _patch_missing_unset_import(package: Path) -> None:
    """openapi-python-client 0.29.1 types an operation with several request media types
    (multipart and JSON) as `body: ... | Unset` without importing `Unset` there."""
    for path in (package / "api").rglob("*.py"):
        text = path.read_text()
        if "| Unset" in text and "Unset," not in text and "import UNSET, Response" in text:
            path.write_text(text.replace("import UNSET, Response", "import UNSET, Response, Unset"))
