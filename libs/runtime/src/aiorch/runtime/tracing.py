"""One trace per task, with OpenTelemetry.

The gateway starts a span per HTTP request; the W3C `traceparent` travels in the headers
of every NATS message published inside a span (`Bus.publish_bytes` adds it); the planner
and the agents continue the trace of the message they read, so one task is one trace:
the gateway's request, the planner's plan and each step's dispatch, run and result. The
planner keeps the task's trace context in its record (`trace_id`, `traceparent`), so what
it does later for the task (timeouts, retries, recovery after a restart) joins the trace.

`setup_tracing(service)` installs a tracer provider whose resource names the service
(`service.name`); spans are exported over OTLP/HTTP (protobuf) only when
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set. Without
it spans still get ids (the task record and the log lines carry the trace id) but go
nowhere: no exporter, no thread, a few microseconds a span. The exporter's other standard
variables apply (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_BSP_SCHEDULE_DELAY`,
`OTEL_TRACES_SAMPLER`...); `OTEL_SDK_DISABLED=true` turns tracing off altogether.

Trace headers from outside (an HTTP caller's, another system's message) are taken only
when well-formed (`well_formed`, `StrictTraceContext`); anything else is ignored and a new
trace starts. The gateway's request spans are FastAPI's own (FastAPI(telemetry=...)).
"""

import asyncio
import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from opentelemetry import propagate, trace
from opentelemetry.context import Context, get_current
from opentelemetry.trace import Link, SpanContext
from opentelemetry.propagators.textmap import default_getter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
MAX_HEADER = 512
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

class StrictTraceContext(TraceContextTextMapPropagator):
    """W3C trace context that takes a `traceparent` only when `well_formed` (one header,
    nothing lenient); installed as the global propagator, so FastAPI's request spans
    use it too. No baggage: aiorch carries none, and takes none from outside."""

    def extract(self, carrier, context: Context | None = None, getter=default_getter) -> Context:
        values = getter.get(carrier, TRACEPARENT)
        if not values or len(values) != 1 or not well_formed(values[0]):
            return context if context is not None else Context()
        return super().extract(carrier, context, getter)


_PROPAGATOR = StrictTraceContext()
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[\x21-\x7e]*)?")
_provider = None

# Span attributes of aiorch's own spans.
TASK_ID, STEP_ID, AGENT, ATTEMPT, OUTCOME = (
    "aiorch.task_id", "aiorch.step_id", "aiorch.agent", "aiorch.attempt", "aiorch.outcome")


def well_formed(traceparent: object) -> bool:
    """A W3C trace-context `traceparent`: version-traceid-parentid-flags in lowercase hex,
    non-zero ids, version not ff, nothing after the flags in version 00."""
    if not isinstance(traceparent, str) or len(traceparent) > MAX_HEADER:
        return False
    match = _TRACEPARENT.fullmatch(traceparent)
    if match is None:
        return False
    version, trace_id, span_id, _flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return False
    return trace_id != "0" * 32 and span_id != "0" * 16


def setup_tracing(service: str) -> None:
    """Install the tracer provider of this process (once): resource `service.name=service`,
    an OTLP/HTTP exporter behind a batch processor only when an endpoint is configured."""
    global _provider
    propagate.set_global_textmap(_PROPAGATOR)
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return  # installed already: by an earlier start in this process, or by a test
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}), shutdown_on_exit=False)
    endpoint = exporter_endpoint()
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider


def exporter_endpoint() -> str | None:
    """The configured OTLP endpoint, or None; one that is not an http(s) URL fails fast."""
    for variable in ENDPOINT_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise SystemExit(f"{variable} must be an http(s) URL (OTLP/HTTP), e.g. http://collector:4318")
            return value
    return None


async def shutdown_tracing(timeout_s: float = 5.0) -> None:
    """Export what is left and stop (on service stop); gives up after `timeout_s` (an
    unreachable collector must not hold the shutdown)."""
    if _provider is None:
        return
    try:  # the global provider cannot be replaced: it stays, exporting nothing more
        await asyncio.wait_for(asyncio.to_thread(_provider.shutdown), timeout_s)
    except (TimeoutError, asyncio.TimeoutError):
        pass


_TRACER = trace.get_tracer("aiorch")
"""A proxy until `setup_tracing` installs the provider; then that provider's tracer."""


def tracer() -> trace.Tracer:
    return _TRACER


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == name), None)
    return value if isinstance(value, str) else None


def context_from(headers: Mapping[str, str] | None) -> Context | None:
    """The trace context that a message's or a request's headers carry, when their
    `traceparent` is well-formed; None otherwise (the receiver starts a new trace)."""
    if not headers:
        return None
    traceparent = _header(headers, TRACEPARENT)
    if not well_formed(traceparent):
        return None
    carrier = {TRACEPARENT: traceparent}
    tracestate = _header(headers, TRACESTATE)
    if tracestate and len(tracestate) <= MAX_HEADER:
        carrier[TRACESTATE] = tracestate
    context = _PROPAGATOR.extract(carrier, Context())
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def context_of(traceparent: str | None) -> Context | None:
    """The context of a stored `traceparent` (a task record's); None when there is none."""
    return context_from({TRACEPARENT: traceparent}) if traceparent else None


def with_trace_headers(headers: dict | None) -> dict | None:
    """`headers` plus the current span's `traceparent` (and `tracestate`): what a message
    published inside a span carries. Unchanged without a span, or when they name one."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid or (headers and (TRACEPARENT in headers or "Traceparent" in headers)):
        return headers
    carrier = dict(headers or {})
    _PROPAGATOR.inject(carrier)
    return carrier


def hex_trace_id(span_context: SpanContext) -> str:
    return format(span_context.trace_id, "032x")


def current_trace_id() -> str | None:
    """The trace id of the span active now (32 hex digits), or None."""
    span_context = trace.get_current_span().get_span_context()
    return hex_trace_id(span_context) if span_context.is_valid else None


def current_traceparent() -> str | None:
    """The `traceparent` of the span active now, or None."""
    carrier: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def parent_in_trace(trace_id: str | None, traceparent: str | None,
                    preferred: Context | None = None) -> tuple[Context, list[Link]]:
    """The parent of a span about a task whose trace is `trace_id` (stored `traceparent`):
    `preferred` (or the current context) when it is in that trace, else the stored one,
    linking to the other. A task without a trace takes `preferred` or starts one."""
    candidate = preferred if preferred is not None else get_current()
    span_context = trace.get_current_span(candidate).get_span_context()
    if span_context.is_valid and (trace_id is None or hex_trace_id(span_context) == trace_id):
        return candidate, []
    stored = context_of(traceparent)
    links = [Link(span_context)] if span_context.is_valid else []
    return (stored if stored is not None else Context()), links


def step_attributes(task_id: str, step_id: str, agent: str, attempt: int) -> dict[str, str | int]:
    return {TASK_ID: task_id, STEP_ID: step_id, AGENT: agent, ATTEMPT: attempt}


def add_trace_ids(_logger, _method: str, event_dict: dict) -> dict:
    """structlog processor: the active span's `trace_id` and `span_id` in every log line."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict.setdefault("trace_id", hex_trace_id(span_context))
        event_dict.setdefault("span_id", format(span_context.span_id, "016x"))
    return event_dict
