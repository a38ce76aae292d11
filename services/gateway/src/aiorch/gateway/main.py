"""The FastAPI application."""

from importlib import metadata
import asyncio
import contextlib
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.telemetry import TelemetryConfig
from starlette.responses import JSONResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from aiorch.contracts import subjects
from aiorch.runtime.broker import Bus
from aiorch.runtime.logs import configure_logging, get_logger
from aiorch.runtime.registry import RegistryView
from aiorch.runtime.retention import sweep
from aiorch.runtime.storage import make_store
from aiorch.runtime.tracing import setup_tracing, shutdown_tracing

from . import agents, models
from .api.routes import events, health, info, plan, tasks
from .config import GatewaySettings

log = get_logger(__name__)

DESCRIPTION = """Submit requests to aiorch's agents and follow their progress.

Every route under /v1 needs `Authorization: Bearer <API key>`. A task belongs to the principal
whose key submitted it: other principals get 404 for it; admins see every task.
Live events: the WebSocket `/v1/tasks/{task_id}/events?after=<seq>` (Bearer header or
`?api_key=`), closed with 4401 (bad key), 4403 (no read scope) or 4404 (no such task)."""


class AllowedMethods:
    """A method a path does not serve answers 405 with an Allow header listing every method
    of that path (Starlette's lists only the first matching route's)."""

    def __init__(self, app: ASGIApp, routes: list) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            methods: set[str] = set()
            full = False
            for route in self.routes:
                match, _ = route.matches(scope)
                if match == Match.FULL:
                    full = True
                    break
                if match == Match.PARTIAL and getattr(route, "methods", None):
                    methods |= route.methods
            if not full and methods:
                response = JSONResponse(
                    {"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": ", ".join(sorted(methods))}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


UNTRACED = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probes and scrapes: no span (they come every few seconds and say nothing of a task)."""

TELEMETRY: TelemetryConfig = {
    # FastAPI's own OpenTelemetry spans: a SERVER span per request, named after its route,
    # the caller's traceparent as parent when well-formed (aiorch.runtime.tracing installs
    # the propagator). No spans for dependencies and endpoints: two more per request, little
    # to learn. Traces only: metrics are Prometheus's (/metrics), logs structlog's; the
    # provider and its exporter come from setup_tracing.
    "tracing": True, "operation_spans": False, "metrics": False, "logs": False, "auto_configure": False,
    "exclude": lambda scope: scope.get("path") in UNTRACED,
}


def _apply_limits(document: dict, settings: GatewaySettings) -> None:
    """The configured limits are part of the contract: put them in the request schemas."""
    bodies = [document["components"]["schemas"]["TaskCreate"]]
    for path in ("/v1/tasks", "/v1/plan"):
        bodies.append(document["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"])
    for body in bodies:
        body["properties"]["request"]["maxLength"] = settings.max_request_chars
        body["properties"]["files"]["maxItems"] = settings.max_files


def create_app(settings: GatewaySettings) -> FastAPI:
    principals = settings.principals()

    async def sweep_forever(app: FastAPI) -> None:
        while True:
            try:
                removed = await sweep(app.state.bus, app.state.store, principals.retention_of)
                if removed:
                    log.info("retention sweep", removed=len(removed))
            except Exception:
                log.exception("retention sweep failed")
            await asyncio.sleep(settings.retention_sweep_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging("gateway", settings.log_level, settings.log_json)
        setup_tracing("aiorch-gateway")
        app.state.store = await asyncio.to_thread(make_store, settings)
        app.state.bus = await Bus.open(settings, name="aiorch-gateway")
        await app.state.bus.wait_for_streams([subjects.STREAM_TASKS, f"KV_{subjects.KV_TASKS}"])
        agents.view = app.state.registry = RegistryView(grace_s=settings.registry_grace_s)  # accepted types and /v1/agents follow it
        # The planner and agents create the bucket; the gateway's NATS user may only read it.
        await app.state.registry.start(app.state.bus.js, create=False)
        sweeper = asyncio.create_task(sweep_forever(app))
        log.info("gateway ready", host=settings.host, port=settings.port,
                 principals=[p.name for p in principals.all()])
        yield
        sweeper.cancel()
        for task in list(app.state.background):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await app.state.registry.stop()
        await app.state.bus.close()
        await shutdown_tracing()

    app = FastAPI(
        title="aiorch gateway",
        version=metadata.version("aiorch-gateway"),
        description=DESCRIPTION,
        lifespan=lifespan,
        telemetry=TELEMETRY,
    )
    app.state.settings = settings
    app.state.principals = principals
    app.state.background = set()
    routers = [tasks.router, events.router, plan.router, info.router, health.router]
    for router in routers:
        app.include_router(router)
    routes = [route for route in app.router.routes if hasattr(route, "path")]
    routes += [route for router in routers for route in router.routes]
    app.add_middleware(AllowedMethods, routes=routes)

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes)
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in models.schema_components().items():
                schemas.setdefault(name, schema)
            _apply_limits(document, settings)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi
    return app
