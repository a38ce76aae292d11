"""Tasks: submit (multipart or JSON), read, list, cancel, delete, download artifacts.

Thin handlers: the body parser is in `submission`, KV reads in `records`, submit and delete
in `lifecycle`, the models in `models`; the live events WebSocket is in `events`."""

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse, StreamingResponse

from aiorch.contracts import CancelRequested, TaskRecord, new_task_id, subjects

from ...config import GatewaySettings
from ...deps import BusDep, Reader, Settings, StoreDep, Submitter, errors
from ...lifecycle import delete_task as delete_everywhere, start_task
from ...models import SUBMIT_BODY, Cancelling, TaskAccepted, TaskLinks, TaskPage
from ...records import find_artifact, load_record, task_page
from ...submission import read_submission

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])


def _links(request: Request, settings: GatewaySettings, task_id: str) -> TaskLinks:
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    ws_base = "ws" + base[4:] if base.startswith("http") else base
    return TaskLinks(
        self=f"{base}/v1/tasks/{task_id}",
        events=f"{ws_base}/v1/tasks/{task_id}/events",
        cancel=f"{base}/v1/tasks/{task_id}/cancel",
    )


# Route order is the OpenAPI document's order: keep it.
@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TaskAccepted,
    openapi_extra=SUBMIT_BODY,
    responses=errors(400, 401, 403, 413, 415, 422, 503),
)
async def submit_task(
    request: Request, settings: Settings, bus: BusDep, store: StoreDep, principal: Submitter
) -> JSONResponse:
    """Submit a request, with files (multipart) or with stored file refs (JSON). The task
    belongs to the calling principal."""
    task_id = new_task_id()
    submission = await read_submission(request, settings, store, task_id, True, bus, principal)
    record = await start_task(bus, task_id, principal, submission)
    links = _links(request, settings, task_id)
    body = TaskAccepted(task_id=task_id, status=record.status.value, files=submission.files, links=links)
    return JSONResponse(body.model_dump(mode="json"), status_code=202, headers={"Location": links.self})


@router.get(
    "/{task_id}", response_model=TaskRecord, response_model_exclude={"outbox"},
    responses=errors(401, 403, 404),
)
async def get_task(task_id: str, bus: BusDep, principal: Reader) -> dict:
    """The task's status, plan, step states, results and final answer."""
    record = await load_record(bus, task_id, principal)
    return record.model_dump(mode="json", exclude={"outbox"})


@router.get("", response_model=TaskPage, responses=errors(401, 403, 422))
async def list_tasks(
    bus: BusDep,
    principal: Reader,
    limit: int = Query(20, ge=1, le=100),
    before: str | None = Query(None, description="Task id from the previous page's next_before"),
) -> TaskPage:
    """The principal's recent tasks (an admin's: everybody's), newest first."""
    return await task_page(bus, principal, limit, before)


@router.post(
    "/{task_id}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=Cancelling,
    responses=errors(401, 403, 404, 409),
)
async def cancel_task(task_id: str, bus: BusDep, principal: Submitter) -> Cancelling:
    """Ask the orchestrator to cancel a task; its `cancelled` event confirms."""
    record = await load_record(bus, task_id, principal)
    if record.terminal:
        raise HTTPException(status.HTTP_409_CONFLICT, f"task {task_id} already ended ({record.status.value})")
    await bus.publish(subjects.task_cancel(task_id), CancelRequested(task_id=task_id))
    return Cancelling(task_id=task_id)


@router.delete(
    "/{task_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
    responses={204: {"description": "Deleted: the record, its events, uploads and artifacts"},
               **errors(401, 403, 404)},
)
async def delete_task(task_id: str, request: Request, bus: BusDep, store: StoreDep, principal: Submitter) -> Response:
    """Delete a task everywhere: its record, events, uploads and artifacts. A running task
    is cancelled first; what its steps still write is removed when they report."""
    record = await load_record(bus, task_id, principal)
    await delete_everywhere(bus, store, record, principal, request.app.state.background)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _artifact_responses() -> dict:
    binary = {"schema": {"type": "string", "format": "binary"}}
    # The artifact's own media type (text/csv, image/png, application/json...): any.
    return {200: {"description": "The file, in its own media type",
                  "content": {"application/octet-stream": binary, "*/*": binary}},
            **errors(401, 403, 404, 409)}


@router.get("/{task_id}/artifacts/{name:path}", response_class=StreamingResponse, responses=_artifact_responses())
async def get_artifact(task_id: str, name: str, bus: BusDep, store: StoreDep, principal: Reader) -> StreamingResponse:
    """Download an artifact by name, or by `<step_id>/<name>` when names repeat."""
    record = await load_record(bus, task_id, principal)
    ref = find_artifact(record, name)
    return StreamingResponse(
        store.iter_chunks(ref.key),
        media_type=ref.media_type,
        headers={"Content-Disposition": f'attachment; filename="{ref.name}"', "Content-Length": str(ref.size)},
    )
