"""One trace per task, over the real system: the services export their spans over OTLP/HTTP
to a small real receiver started here, and the test follows one task through them."""

import asyncio
import gzip
import hashlib
import json
import secrets
import signal
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import nats
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from aiorch.contracts import TaskSubmitted, new_task_id, subjects
from aiorch.runtime.local import LocalSystem
from tests.conftest import ADMIN_KEY, ARTIFACTS, KEY

pytestmark = pytest.mark.e2e


class Receiver:
    """An OTLP/HTTP trace receiver (protobuf): what each service exports, as plain dicts."""

    def __init__(self) -> None:
        self.spans: list[dict] = []
        self.requests = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                receiver.take(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def take(self, request: ExportTraceServiceRequest) -> None:
        spans = []
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {}
                    for a in span.attributes:
                        value = a.value
                        attributes[a.key] = value.int_value if value.HasField("int_value") else value.string_value
                    spans.append({
                        "service": resource.get("service.name"), "name": span.name,
                        "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                        "parent": span.parent_span_id.hex() or None, "attributes": attributes,
                        "links": [link.trace_id.hex() for link in span.links],
                    })
        with self.lock:
            self.spans.extend(spans)
            self.requests += 1

    def trace(self, trace_id: str) -> list[dict]:
        with self.lock:
            return [span for span in self.spans if span["trace_id"] == trace_id]

    def wait_for(self, trace_id: str, want, timeout: float = 30.0) -> list[dict]:
        """The spans of `trace_id` once `want(spans)` holds (the services export in batches)."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.trace(trace_id)
            if want(spans) or time.monotonic() > deadline:
                return spans
            time.sleep(0.1)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver():
    running = Receiver()
    yield running
    running.close()


@pytest.fixture(scope="module")
def traced(receiver):
    with tempfile.TemporaryDirectory(prefix="aiorch-tracing-") as root:
        keys = Path(root) / "api-keys"
        keys.write_text(f"admin admin {hashlib.sha256(ADMIN_KEY.encode()).hexdigest()}\n")
        system = LocalSystem(
            Path(root), ARTIFACTS / "logs" / "tracing", KEY, agents=["aiorch.sentiment"],
            AIORCH_API_KEYS_FILE=str(keys), OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
            OTEL_BSP_SCHEDULE_DELAY="100",
        )
        system.start()
        yield system
        system.stop()


def _names(spans: list[dict]) -> set[tuple[str, str]]:
    return {(span["service"], span["name"]) for span in spans}


WHOLE_TASK = {
    ("aiorch-gateway", "POST /v1/tasks"), ("aiorch-planner", "plan"), ("aiorch-planner", "dispatch sentiment"),
    ("aiorch-sentiment", "step sentiment"), ("aiorch-planner", "result sentiment"),
}


def _submit(system: LocalSystem, headers: dict | None = None) -> str:
    response = system.http.post("/v1/tasks", json={"request": 'sentiment of "I love this phone"'},
                                headers=headers or {})
    assert response.status_code == 202, response.text
    task_id = response.json()["task_id"]
    assert system.events(task_id)[-1]["type"] == "completed"
    return task_id


def _ancestors(span: dict, spans: list[dict]) -> list[dict]:
    by_id = {s["span_id"]: s for s in spans}
    chain = []
    while span["parent"] in by_id:
        span = by_id[span["parent"]]
        chain.append(span)
    return chain


def test_one_task_is_one_trace_across_gateway_planner_and_agent(traced, receiver):
    task_id = _submit(traced)
    record = traced.task(task_id)
    trace_id = record["trace_id"]
    assert trace_id and len(trace_id) == 32 and int(trace_id, 16)
    spans = receiver.wait_for(trace_id, lambda spans: WHOLE_TASK <= _names(spans))
    assert WHOLE_TASK <= _names(spans), sorted(_names(spans))
    # Every span of the task is in that one trace, and no other trace has a span of it.
    with receiver.lock:
        elsewhere = [s for s in receiver.spans
                     if s["attributes"].get("aiorch.task_id") == task_id and s["trace_id"] != trace_id]
    assert not elsewhere
    [request] = [s for s in spans if s["name"] == "POST /v1/tasks"]
    assert request["parent"] is None and request["attributes"]["http.response.status_code"] == 202
    # Parents right: the agent's step hangs from the planner's dispatch, which hangs from the
    # plan, which hangs (through the submission) from the gateway's request (FastAPI's span,
    # through its endpoint's span).
    [step] = [s for s in spans if s["name"] == "step sentiment"]
    assert step["attributes"]["aiorch.task_id"] == task_id and step["attributes"]["aiorch.step_id"] == "s1"
    assert step["attributes"]["aiorch.agent"] == "sentiment" and step["attributes"]["aiorch.attempt"] == 1
    assert step["attributes"]["aiorch.outcome"] == "completed"
    chain = [(s["service"], s["name"]) for s in _ancestors(step, spans)]
    assert chain[:2] == [("aiorch-planner", "dispatch sentiment"), ("aiorch-planner", "plan")]
    assert chain[-1] == ("aiorch-gateway", "POST /v1/tasks") and _ancestors(step, spans)[-1] is request
    assert all(service == "aiorch-gateway" for service, _ in chain[2:])
    [result] = [s for s in spans if s["name"] == "result sentiment"]
    assert result["parent"] == step["span_id"] and result["attributes"]["aiorch.outcome"] == "completed"
    # The services' JSON log lines carry the trace id while a span is active.
    step_log = [json.loads(line) for line in traced.services["sentiment"].log().splitlines()
                if line.startswith("{") and '"step finished"' in line and task_id in line]
    assert step_log and step_log[-1]["trace_id"] == trace_id and step_log[-1]["span_id"] == step["span_id"]


def test_a_well_formed_traceparent_joins_the_callers_trace(traced, receiver):
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    task_id = _submit(traced, {"traceparent": f"00-{trace_id}-{parent}-01"})
    assert traced.task(task_id)["trace_id"] == trace_id
    spans = receiver.wait_for(trace_id, lambda spans: WHOLE_TASK <= _names(spans))
    assert WHOLE_TASK <= _names(spans)
    [request] = [s for s in spans if s["name"] == "POST /v1/tasks"]
    assert request["parent"] == parent


@pytest.mark.parametrize("traceparent", [
    "00-{t}-{s}",                        # no flags
    "00-{T}-{s}-01",                     # upper-case hex
    "00-00000000000000000000000000000000-{s}-01",  # zero trace id
    "00-{t}-0000000000000000-01",        # zero span id
    "ff-{t}-{s}-01",                     # forbidden version
    "00-{t}-{s}-01-extra",               # version 00 with more fields
    "not a traceparent",
])
def test_a_malformed_traceparent_is_ignored_and_a_new_trace_starts(traced, receiver, traceparent):
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    header = traceparent.format(t=trace_id, T=trace_id.upper(), s=parent)
    task_id = _submit(traced, {"traceparent": header})
    own = traced.task(task_id)["trace_id"]
    assert own and own != trace_id and own.lower() != trace_id.lower()
    spans = receiver.wait_for(own, lambda spans: WHOLE_TASK <= _names(spans))
    assert WHOLE_TASK <= _names(spans)
    [request] = [s for s in spans if s["name"] == "POST /v1/tasks"]
    assert request["parent"] is None
    assert not receiver.trace(trace_id)


def _planned_and_run(spans: list[dict]) -> bool:
    """Both ends of a bus submission's trace are in: each service exports on its own schedule."""
    return {("aiorch-planner", "plan"), ("aiorch-sentiment", "step sentiment")} <= _names(spans)


def _publish_submission(system: LocalSystem, headers: dict) -> str:
    task_id = new_task_id()

    async def publish() -> None:
        connection = await nats.connect(system.nats.url)
        message = TaskSubmitted(task_id=task_id, request='sentiment of "great"', source="bus")
        await connection.jetstream().publish(subjects.TASKS_SUBMITTED, message.model_dump_json().encode(),
                                             headers=headers)
        await connection.close()

    asyncio.run(publish())
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}  # published with no owner: only an admin sees it
    deadline = time.monotonic() + 30
    while True:
        record = httpx.get(f"{system.url}/v1/tasks/{task_id}", headers=admin)
        if (record.status_code == 200 and record.json()["status"] == "completed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert record.status_code == 200 and record.json()["status"] == "completed", record.text
    return record.json()["trace_id"]


def test_bus_submissions_join_a_well_formed_trace_and_ignore_a_malformed_one(traced, receiver):
    trace_id, parent = secrets.token_hex(16), secrets.token_hex(8)
    assert _publish_submission(traced, {"traceparent": f"00-{trace_id}-{parent}-01"}) == trace_id
    spans = receiver.wait_for(trace_id, _planned_and_run)
    [plan] = [s for s in spans if s["name"] == "plan"]
    assert plan["parent"] == parent and ("aiorch-sentiment", "step sentiment") in _names(spans)

    bad = secrets.token_hex(16)
    own = _publish_submission(traced, {"traceparent": f"00-{bad}-{'0' * 16}-01"})
    assert own and own != bad
    spans = receiver.wait_for(own, _planned_and_run)
    [plan] = [s for s in spans if s["name"] == "plan"]
    assert plan["parent"] is None and ("aiorch-sentiment", "step sentiment") in _names(spans)


def test_a_restarted_planner_carries_on_in_the_tasks_trace(traced, receiver):
    """The trace context lives in the task record: a planner that died mid-task and came back
    recovers the task, and takes its result, in the task's trace."""
    traced.services["sentiment"].kill()  # the step waits in the work queue
    response = traced.http.post("/v1/tasks", json={"request": 'sentiment of "what a lovely day"'})
    assert response.status_code == 202, response.text
    task_id = response.json()["task_id"]
    traced.events(task_id, until=lambda e: e["type"] == "step_started")
    record = traced.task(task_id)
    trace_id, plan_span = record["trace_id"], record["traceparent"].split("-")[2]
    traced.services["planner"].signal(signal.SIGKILL)
    traced.services["planner"].process.wait()
    traced.start_service("aiorch.planner")
    traced.start_service("aiorch.sentiment")
    assert traced.events(task_id, timeout=120)[-1]["type"] == "completed"
    assert traced.task(task_id)["trace_id"] == trace_id
    spans = receiver.wait_for(trace_id, lambda spans: {("aiorch-planner", "recover"), ("aiorch-planner", "result sentiment"),
                                                      ("aiorch-sentiment", "step sentiment")} <= _names(spans))
    [recover] = [s for s in spans if s["name"] == "recover"]
    assert recover["parent"] == plan_span and recover["attributes"]["aiorch.task_id"] == task_id
    [result] = [s for s in spans if s["name"] == "result sentiment"]
    steps = {s["span_id"] for s in spans if s["name"] == "step sentiment"}
    assert result["parent"] in steps
