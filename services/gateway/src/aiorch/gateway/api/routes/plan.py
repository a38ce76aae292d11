"""Dry-run planning: the plan the planner would make, nothing executed or stored."""

from fastapi import APIRouter, Depends, HTTPException, Request, status
from nats.errors import NoRespondersError, TimeoutError as NatsTimeout

from aiorch.contracts import Plan, PlanRequest, subjects

from ...deps import BusDep, Settings, StoreDep, require_api_key
from .tasks import SUBMIT_BODY, read_submission

router = APIRouter(prefix="/v1", tags=["plan"])


@router.post(
    "/plan", response_model=Plan, dependencies=[Depends(require_api_key)], openapi_extra=SUBMIT_BODY,
    responses={401: {}, 413: {}, 415: {}, 422: {}, 503: {}},
)
async def dry_run(request: Request, settings: Settings, bus: BusDep, store: StoreDep) -> Plan:
    """Plan a request (multipart or JSON, like POST /v1/tasks) without running it."""
    submission = await read_submission(request, settings, store, "dry_run", persist=False)
    ask = PlanRequest(request=submission.request, files=submission.files, params=submission.params)
    try:
        reply = await bus.nc.request(subjects.PLANNER_PLAN, ask.model_dump_json().encode(), timeout=settings.plan_timeout_s)
    except (NoRespondersError, NatsTimeout):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the planner is not answering; try again") from None
    try:
        return Plan.model_validate_json(reply.data)
    except ValueError:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"planner error: {reply.data[:300].decode()}") from None
