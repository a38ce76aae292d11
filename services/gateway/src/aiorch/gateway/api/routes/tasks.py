"""Tasks: submit (multipart or JSON), read, list, cancel, artifacts, live events."""

import asyncio
import contextlib
import hashlib
import json
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, WebSocket, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from nats.js.errors import KeyNotFoundError, NoKeysError
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError
from starlette.datastructures import UploadFile
from starlette.websockets import WebSocketDisconnect

from aiorch.contracts import (
    TERMINAL_EVENTS,
    CancelRequested,
    FileRef,
    TaskRecord,
    TaskSubmitted,
    accepted_media_types,
    new_task_id,
    subjects,
)
from aiorch.contracts.messages import ParamValue
from aiorch.contracts.subjects import is_valid_task_id
from aiorch.runtime.broker import Bus
from aiorch.runtime.logs import get_logger
from aiorch.runtime.retention import delete_task as delete_everything
from aiorch.runtime.storage import ObjectStore, upload_key

from ...config import GatewaySettings
from ...deps import BusDep, Reader, Settings, StoreDep, Submitter, errors, websocket_key
from ...principals import Principal
from ...uploads import SNIFF_BYTES, UploadProblem, detect_media_type, unique_safe_names

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])
events_router = APIRouter(tags=["tasks"])
SUBMITTED = Counter("aiorch_gateway_tasks_submitted_total", "Tasks accepted by the gateway")
DELETED = Counter("aiorch_gateway_tasks_deleted_total", "Tasks deleted through the API")
log = get_logger(__name__)


class TaskCreate(BaseModel):
    """JSON submission: the request and files already in the object store."""

    model_config = ConfigDict(strict=True)

    request: StrictStr = Field(description="What to do, in plain words.")
    files: list[FileRef] = Field(default_factory=list, description="Files uploaded earlier (keys under uploads/).")
    params: dict[str, ParamValue] = Field(default_factory=dict, description="Structured parameters, e.g. column.")


class TaskLinks(BaseModel):
    self: str
    events: str = Field(description="The WebSocket of the task's events (Bearer header or ?api_key=).")
    cancel: str


class TaskAccepted(BaseModel):
    task_id: str
    status: str
    files: list[FileRef]
    links: TaskLinks


class TaskSummary(BaseModel):
    task_id: str
    status: str
    request: str
    owner: str | None = None
    created_at: datetime
    updated_at: datetime


class Cancelling(BaseModel):
    task_id: str
    status: Literal["cancelling"] = "cancelling"


class TaskPage(BaseModel):
    tasks: list[TaskSummary]
    next_before: str | None = Field(description="Pass as `before` for the next page.")


SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["request"],
                    "properties": {
                        "request": {"type": "string"},
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "params": {"type": "string", "description": "JSON object of parameters"},
                    },
                }
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/TaskCreate"}},
        },
    }
}


def schema_components() -> dict[str, dict]:
    """TaskCreate and the models it uses, for the document's components (the request body
    refers to them there)."""
    schema = TaskCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.pop("$defs", {})
    components["TaskCreate"] = schema
    return components


def _too_many_files(settings: GatewaySettings) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("body", "files"), "msg": f"at most {settings.max_files} files per task", "type": "too_long"}])


def body_errors(exc: ValidationError) -> list[dict]:
    """The errors of a body, without the input itself (never echoed, and maybe not text)."""
    return [
        {"loc": ("body", *error["loc"]), "msg": error["msg"], "type": error["type"],
         **({"ctx": {key: str(value) for key, value in error["ctx"].items()}} if error.get("ctx") else {})}
        for error in exc.errors(include_url=False)
    ]


class Submission(BaseModel):
    request: str
    files: list[FileRef]
    params: dict[str, ParamValue]


async def read_submission(
    request: Request, settings: GatewaySettings, store: ObjectStore, task_id: str, persist: bool,
    bus: Bus, principal: Principal,
) -> Submission:
    """Parse a multipart or JSON body, check files, store uploads when `persist`."""
    length = int(request.headers.get("content-length") or 0)
    limit = settings.max_upload_bytes * settings.max_files + 1024 * 1024
    if length > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"request body of {length:,} bytes is over {limit:,}")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        submission = await _read_multipart(request, settings, store, task_id, persist)
    elif content_type.startswith("application/json") or not content_type:
        submission = await _read_json(request, settings, store, bus, principal)
    else:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "send multipart/form-data (with files) or application/json"
        )
    if len(submission.request) > settings.max_request_chars:
        raise RequestValidationError(
            [{"loc": ("body", "request"), "msg": f"longer than {settings.max_request_chars:,} characters; "
              "attach long text as a .txt file", "type": "string_too_long"}]
        )
    if not submission.request.strip() and not submission.files:
        raise RequestValidationError(
            [{"loc": ("body", "request"), "msg": "empty request and no files: say what to do", "type": "missing"}]
        )
    return submission


async def _read_json(
    request: Request, settings: GatewaySettings, store: ObjectStore, bus: Bus, principal: Principal
) -> Submission:
    body = await request.body()
    try:
        create = TaskCreate.model_validate_json(body or b"null")
    except ValidationError as exc:
        raise RequestValidationError(body_errors(exc)) from None
    if len(create.files) > settings.max_files:
        raise _too_many_files(settings)
    for index, ref in enumerate(create.files):
        if not ref.key.startswith("uploads/"):
            raise RequestValidationError(
                [{"loc": ("body", "files", index, "key"), "msg": "must be an uploaded file (uploads/...)", "type": "value_error"}]
            )
        _check_accepted(ref.name, ref.media_type)
        try:
            # Only files of the principal's own tasks: another's answer as if absent.
            await load_record(bus, ref.key.split("/")[1], principal)
            size = await asyncio.to_thread(store.size, ref.key)
        except (KeyError, HTTPException):
            raise RequestValidationError(
                [{"loc": ("body", "files", index, "key"), "msg": f"no stored file {ref.key!r}", "type": "value_error"}]
            ) from None
        except ValueError as exc:
            raise RequestValidationError(
                [{"loc": ("body", "files", index, "key"), "msg": str(exc), "type": "value_error"}]
            ) from None
        if size != ref.size:
            raise RequestValidationError(
                [{"loc": ("body", "files", index, "size"), "msg": f"stored file has {size} bytes", "type": "value_error"}]
            )
    return Submission(request=create.request, files=create.files, params=create.params)


async def _read_multipart(
    request: Request, settings: GatewaySettings, store: ObjectStore, task_id: str, persist: bool
) -> Submission:
    try:
        form = await request.form(max_files=settings.max_files + 1, max_fields=50)
    except Exception as exc:  # starlette's MultiPartException: malformed body, too many parts
        if "Too many files" in str(exc):
            raise _too_many_files(settings) from None
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"unreadable multipart body: {exc}") from None
    text = form.get("request")
    if not isinstance(text, str):
        raise RequestValidationError([{"loc": ("body", "request"), "msg": "field required", "type": "missing"}])
    if any(not isinstance(value, str) for value in form.getlist("params")) or any(
            isinstance(value, str) for value in form.getlist("files")):
        await form.close()
        raise RequestValidationError(
            [{"loc": ("body", "files"), "msg": "'files' parts must be file uploads, 'params' a JSON text",
              "type": "value_error"}])
    params: dict = {}
    if isinstance(form.get("params"), str) and form["params"].strip():
        try:
            params = json.loads(form["params"])
            if not isinstance(params, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            raise RequestValidationError(
                [{"loc": ("body", "params"), "msg": f"must be a JSON object ({exc})", "type": "value_error"}]
            ) from None
    uploads = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    uploads = [upload for upload in uploads if upload.filename or upload.size]
    if len(uploads) > settings.max_files:
        raise _too_many_files(settings)
    names = unique_safe_names([upload.filename or "upload" for upload in uploads])
    refs = []
    try:
        for upload, name in zip(uploads, names, strict=True):
            refs.append(await _accept_upload(upload, name, settings, store, task_id, persist))
    except UploadProblem as problem:
        if problem.status == 422:
            raise RequestValidationError(
                [{"loc": ("body", "files"), "msg": problem.message, "type": "value_error"}]) from None
        raise HTTPException(problem.status, problem.message) from None
    finally:
        await form.close()
    try:
        return Submission(request=text, files=refs, params=params)
    except ValidationError as exc:
        raise RequestValidationError(body_errors(exc)) from None


async def _accept_upload(
    upload: UploadFile, name: str, settings: GatewaySettings, store: ObjectStore, task_id: str, persist: bool
) -> FileRef:
    shown = upload.filename or name
    size = upload.size if upload.size is not None else await asyncio.to_thread(_measure, upload)
    if size > settings.max_upload_bytes:
        raise UploadProblem(413, f"{shown} is {size:,} bytes; the limit is {settings.max_upload_bytes:,} bytes per file")
    if size == 0:
        raise UploadProblem(422, f"{shown} is empty")
    head = await upload.read(SNIFF_BYTES)
    await upload.seek(0)
    media_type = detect_media_type(head, name)
    _check_accepted(shown, media_type)
    key = upload_key(task_id, name)
    return await asyncio.to_thread(_store_upload, store, upload, key, name, size, media_type, persist)


def _measure(upload: UploadFile) -> int:
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    return size


def _store_upload(
    store: ObjectStore, upload: UploadFile, key: str, name: str, size: int, media_type: str, persist: bool
) -> FileRef:
    digest = hashlib.sha256()
    while chunk := upload.file.read(1024 * 1024):
        digest.update(chunk)
    upload.file.seek(0)
    if persist:
        store.put_stream(key, upload.file, size, media_type)
    return FileRef(key=key, name=name, media_type=media_type, size=size, sha256=digest.hexdigest())


def _check_accepted(name: str, media_type: str) -> None:
    accepted = accepted_media_types()
    if media_type not in accepted:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"{name} is {media_type}, which no agent takes; accepted types: {', '.join(accepted)}",
        )


def _links(request: Request, settings: GatewaySettings, task_id: str) -> TaskLinks:
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    ws_base = "ws" + base[4:] if base.startswith("http") else base
    return TaskLinks(
        self=f"{base}/v1/tasks/{task_id}",
        events=f"{ws_base}/v1/tasks/{task_id}/events",
        cancel=f"{base}/v1/tasks/{task_id}/cancel",
    )


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
    record = TaskRecord(task_id=task_id, owner=principal.name, request=submission.request, files=submission.files,
                        params=submission.params)
    kv = await bus.tasks_kv()
    await kv.create(task_id, record.model_dump_json().encode())
    message = TaskSubmitted(
        task_id=task_id, request=submission.request, files=submission.files,
        params=submission.params, submitted_at=record.created_at, source="gateway", owner=principal.name,
    )
    try:
        await bus.publish(subjects.TASKS_SUBMITTED, message, msg_id=task_id)
    except Exception as exc:
        with contextlib.suppress(Exception):
            await kv.delete(task_id)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"task bus unavailable: {exc}") from None
    SUBMITTED.inc()
    links = _links(request, settings, task_id)
    body = TaskAccepted(task_id=task_id, status=record.status.value, files=submission.files, links=links)
    return JSONResponse(body.model_dump(mode="json"), status_code=202, headers={"Location": links.self})


async def load_record(bus: Bus, task_id: str, principal: Principal) -> TaskRecord:
    """The task's record, if `principal` may see it; 404 otherwise (whether it exists or not)."""
    missing = HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_id!r}")
    if not is_valid_task_id(task_id):
        raise missing
    kv = await bus.tasks_kv()
    try:
        entry = await kv.get(task_id)
    except KeyNotFoundError:
        entry = None
    if entry is None or entry.value is None:
        raise missing
    record = TaskRecord.model_validate_json(entry.value)
    if not principal.sees(record.owner):
        raise missing
    return record


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
    kv = await bus.tasks_kv()
    try:
        keys = sorted(await kv.keys(), reverse=True)
    except NoKeysError:
        keys = []
    if before:
        keys = [key for key in keys if key < before]
    summaries: list[TaskSummary] = []
    more = False
    for key in keys:
        try:
            entry = await kv.get(key)
        except KeyNotFoundError:
            continue
        if not entry.value:
            continue
        record = TaskRecord.model_validate_json(entry.value)
        if not principal.sees(record.owner):
            continue
        if len(summaries) == limit:
            more = True
            break
        summaries.append(
            TaskSummary(task_id=record.task_id, status=record.status.value, request=record.request[:200],
                        owner=record.owner, created_at=record.created_at, updated_at=record.updated_at)
        )
    return TaskPage(tasks=summaries, next_before=summaries[-1].task_id if more else None)


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
    if not record.terminal:
        with contextlib.suppress(Exception):
            await bus.publish(subjects.task_cancel(task_id), CancelRequested(task_id=task_id, reason="deleted"))
    objects = await delete_everything(bus, store, task_id)
    DELETED.inc()
    log.info("task deleted", audit="delete", task_id=task_id, owner=record.owner, by=principal.name,
             was=record.status.value, objects=objects)
    # Events a planner was publishing at that moment, and files a finishing step wrote,
    # are caught by a second pass a little later.
    tasks = request.app.state.background
    later = asyncio.create_task(_delete_again(bus, store, task_id))
    tasks.add(later)
    later.add_done_callback(tasks.discard)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _delete_again(bus: Bus, store: ObjectStore, task_id: str, delay_s: float = 3.0) -> None:
    await asyncio.sleep(delay_s)
    try:
        objects = await delete_everything(bus, store, task_id)
    except Exception as exc:
        log.warning("second deletion pass failed", task_id=task_id, error=str(exc))
        return
    if objects:
        log.info("task files removed after deletion", audit="delete", task_id=task_id, objects=objects)


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
    step_filter, _, wanted = name.rpartition("/")
    matches = [
        ref
        for state in record.steps.values()
        if state.result and (not step_filter or state.id == step_filter)
        for ref in [*state.result.artifacts, *([state.result.output_ref] if state.result.output_ref else [])]
        if ref.name == wanted
    ]
    if not matches:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"task {task_id} has no artifact {name!r}")
    if len(matches) > 1:
        raise HTTPException(status.HTTP_409_CONFLICT, f"several steps made {wanted!r}; ask for <step_id>/{wanted}")
    ref = matches[0]
    return StreamingResponse(
        store.iter_chunks(ref.key),
        media_type=ref.media_type,
        headers={"Content-Disposition": f'attachment; filename="{ref.name}"', "Content-Length": str(ref.size)},
    )


@events_router.websocket("/v1/tasks/{task_id}/events")
async def task_events(websocket: WebSocket, task_id: str, after: int = 0) -> None:
    """The task's events from the start (or after `after`), then live until it ends."""
    await websocket.accept()
    app = websocket.app
    principal = app.state.principals.authenticate(websocket_key(websocket))
    if principal is None:
        await websocket.close(code=4401, reason="missing or invalid API key")
        return
    if not principal.can("read"):
        await websocket.close(code=4403, reason="the API key lacks the 'read' scope")
        return
    try:
        await load_record(app.state.bus, task_id, principal)
    except HTTPException as exc:
        await websocket.close(code=4404, reason=exc.detail)
        return
    queue: asyncio.Queue = asyncio.Queue()

    async def on_event(msg) -> None:
        await queue.put(msg.data)

    sub = await app.state.bus.js.subscribe(
        subjects.task_events(task_id), stream=subjects.STREAM_TASKS, cb=on_event, ordered_consumer=True
    )
    receiver = asyncio.create_task(websocket.receive())
    last_seq = after
    try:
        while True:
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                getter.cancel()
                message = receiver.result()
                if message["type"] == "websocket.disconnect":
                    return
                receiver = asyncio.create_task(websocket.receive())
                continue
            data = getter.result()
            event = json.loads(data)
            if event.get("seq", 0) <= last_seq:
                continue  # replayed or re-published after a planner restart
            last_seq = event["seq"]
            await websocket.send_text(data.decode())
            if event.get("type") in TERMINAL_EVENTS:
                await websocket.close(code=1000)
                return
    except WebSocketDisconnect:
        return
    finally:
        receiver.cancel()
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
