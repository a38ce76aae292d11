"""Dry-run planning: the plan the planner would make, nothing executed or stored."""

from fastapi import APIRouter, HTTPException, Request, status
from nats.errors import NoRespondersError, TimeoutError as NatsTimeout

from aiorch.contracts import Plan, PlanRequest, subjects
from aiorch.runtime.tracing import with_trace_headers

from ...deps import BusDep, Settings, StoreDep, Submitter, errors
from ...models import SUBMIT_BODY
from ...submission import read_submission

router = APIRouter(prefix="/v1", tags=["plan"])


@router.post(
    "/plan", response_model=Plan, openapi_extra=SUBMIT_BODY,
    responses=errors(400, 401, 403, 413, 415, 422, 502, 503),
)
async def dry_run(request: Request, settings: Settings, bus: BusDep, store: StoreDep, principal: Submitter) -> Plan:
    """Plan a request (multipart or JSON, like POST /v1/tasks) without running it. JSON file
    refs must name uploads of the caller's own tasks."""
    submission = await read_submission(request, settings, store, "dry_run", False, bus, principal)
    ask = PlanRequest(request=submission.request, files=submission.files, params=submission.params,
                      owner=principal.name)
    try:
        reply = await bus.nc.request(subjects.PLANNER_PLAN, ask.model_dump_json().encode(),
                                     timeout=settings.plan_timeout_s, headers=with_trace_headers(None))
    except (NoRespondersError, NatsTimeout):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the planner is not answering; try again") from None
    try:
        return Plan.model_validate_json(reply.data)
    except ValueError:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"planner error: {reply.data[:300].decode()}") from None
