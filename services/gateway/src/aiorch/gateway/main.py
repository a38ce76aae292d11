"""The FastAPI application."""

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI

from aiorch.contracts import subjects
from aiorch.runtime.broker import Bus
from aiorch.runtime.logs import configure_logging, get_logger
from aiorch.runtime.storage import make_store

from .api.routes import health, info, plan, tasks
from .config import GatewaySettings

log = get_logger(__name__)


def create_app(settings: GatewaySettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        configure_logging("gateway", settings.log_level, settings.log_json)
        app.state.store = await asyncio.to_thread(make_store, settings)
        app.state.bus = await Bus.open(settings, name="aiorch-gateway")
        await app.state.bus.wait_for_streams([subjects.STREAM_TASKS, f"KV_{subjects.KV_TASKS}"])
        log.info("gateway ready", host=settings.host, port=settings.port)
        yield
        await app.state.bus.close()

    app = FastAPI(
        title="aiorch gateway",
        version="0.1.0",
        description="Submit requests to aiorch's agents and follow their progress.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(tasks.router)
    app.include_router(tasks.events_router)
    app.include_router(plan.router)
    app.include_router(info.router)
    app.include_router(health.router)
    return app
