from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class Alive(BaseModel):
    status: Literal["ok"]
    service: str


class Ready(BaseModel):
    ready: bool
    service: str


@router.get("/healthz", response_model=Alive)
async def healthz() -> dict:
    """The process is alive."""
    return {"status": "ok", "service": "gateway"}


@router.get("/readyz", response_model=Ready, responses={503: {"model": Ready, "description": "Not connected to NATS"}})
async def readyz(request: Request) -> JSONResponse:
    """Connected to NATS and ready for traffic."""
    bus = getattr(request.app.state, "bus", None)
    ready = bool(bus and bus.nc.is_connected)
    return JSONResponse({"ready": ready, "service": "gateway"}, status_code=200 if ready else 503)


@router.get(
    "/metrics", response_class=Response,
    responses={200: {"description": "Prometheus text format",
                     "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics() -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
