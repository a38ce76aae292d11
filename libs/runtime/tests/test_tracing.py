"""Trace context in and out: what is taken from outside, what messages carry, log lines."""

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider

from aiorch.runtime import tracing
from aiorch.runtime.tracing import (
    StrictTraceContext,
    add_trace_ids,
    context_from,
    current_trace_id,
    current_traceparent,
    parent_in_trace,
    well_formed,
    with_trace_headers,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
GOOD = f"00-{TRACE}-{SPAN}-01"

tracer = TracerProvider().get_tracer("test")  # a provider of the test's own, not the global one


@pytest.mark.parametrize("value", [GOOD, f"00-{TRACE}-{SPAN}-00", f"01-{TRACE}-{SPAN}-01-future-fields"])
def test_well_formed_traceparents(value):
    assert well_formed(value)
    assert _trace_of(context_from({"traceparent": value})) == TRACE


@pytest.mark.parametrize("value", [
    "", "garbage", f"00-{TRACE}-{SPAN}", f"00-{TRACE.upper()}-{SPAN}-01", f"00-{'0' * 32}-{SPAN}-01",
    f"00-{TRACE}-{'0' * 16}-01", f"ff-{TRACE}-{SPAN}-01", f"00-{TRACE}-{SPAN}-01-extra", f" {GOOD}", f"{GOOD} ",
    f"00-{TRACE[:-1]}-{SPAN}-01", f"00-{TRACE}-{SPAN}-1", f"0-{TRACE}-{SPAN}-01", f"00_{TRACE}_{SPAN}_01",
    f"01-{TRACE}-{SPAN}-01-" + "x" * 600, None, 42, b"00",
])
def test_malformed_traceparents_are_ignored(value):
    assert not well_formed(value)
    assert context_from({"traceparent": value}) is None
    assert StrictTraceContext().extract({"traceparent": value}) == Context()


def test_context_from_headers():
    assert context_from(None) is None and context_from({}) is None
    assert context_from({"Nats-Msg-Id": "x"}) is None
    assert _trace_of(context_from({"Traceparent": GOOD})) == TRACE  # header names in any case
    with_state = context_from({"traceparent": GOOD, "tracestate": "vendor=1"})
    assert trace.get_current_span(with_state).get_span_context().trace_state.get("vendor") == "1"
    assert StrictTraceContext().extract({"traceparent": [GOOD, GOOD]}) == Context()  # two: neither


def test_published_headers_carry_the_active_span():
    assert with_trace_headers(None) is None
    assert with_trace_headers({"Nats-Msg-Id": "a"}) == {"Nats-Msg-Id": "a"}
    assert current_trace_id() is None and current_traceparent() is None
    with tracer.start_as_current_span("step", context=context_from({"traceparent": GOOD})) as span:
        headers = with_trace_headers({"Nats-Msg-Id": "a"})
        mine = span.get_span_context()
        assert headers["Nats-Msg-Id"] == "a"
        assert headers["traceparent"] == f"00-{TRACE}-{mine.span_id:016x}-01" == current_traceparent()
        assert current_trace_id() == TRACE
        assert with_trace_headers({"traceparent": GOOD}) == {"traceparent": GOOD}  # already named: kept


def test_a_task_span_stays_in_the_tasks_trace():
    stored = f"00-{TRACE}-{SPAN}-01"
    same = context_from({"traceparent": f"00-{TRACE}-{'1' * 16}-01"})
    parent, links = parent_in_trace(TRACE, stored, same)
    assert parent is same and links == []
    other = context_from({"traceparent": f"00-{'2' * 32}-{'3' * 16}-01"})
    parent, links = parent_in_trace(TRACE, stored, other)
    assert _trace_of(parent) == TRACE and [f"{link.context.trace_id:032x}" for link in links] == ["2" * 32]
    parent, links = parent_in_trace(TRACE, stored, None)  # nothing active: the stored context
    assert trace.get_current_span(parent).get_span_context().span_id == int(SPAN, 16) and not links
    parent, links = parent_in_trace(None, None, other)  # a task without a trace takes the caller's
    assert parent is other
    parent, links = parent_in_trace(TRACE, None, other)  # stored context lost: a new trace, linked
    assert parent == Context() and len(links) == 1


def test_log_lines_carry_the_trace_while_a_span_is_active():
    assert add_trace_ids(None, "info", {"event": "x"}) == {"event": "x"}
    with tracer.start_as_current_span("s", context=context_from({"traceparent": GOOD})) as span:
        line = add_trace_ids(None, "info", {"event": "x"})
    assert line == {"event": "x", "trace_id": TRACE, "span_id": f"{span.get_span_context().span_id:016x}"}


def test_the_exporter_endpoint_must_be_an_http_url(monkeypatch):
    for variable in tracing.ENDPOINT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    assert tracing.exporter_endpoint() is None
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert tracing.exporter_endpoint() == "http://collector:4318"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")
    with pytest.raises(SystemExit, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        tracing.exporter_endpoint()


def _trace_of(context: Context | None) -> str | None:
    if context is None:
        return None
    span_context = trace.get_current_span(context).get_span_context()
    return f"{span_context.trace_id:032x}" if span_context.is_valid else None
