"""Reading a submission body (multipart with uploads, or JSON with stored file refs) and
storing its uploads.

POST /v1/tasks and POST /v1/plan take the same body; both call `read_submission`, which
answers the same errors (413, 415, 400, 422 in FastAPI's shape) whichever form is sent.
Uploads are checked by their bytes, not their names, before anything is stored."""

import asyncio
import hashlib
import json

import nats.errors
from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from aiorch.contracts import FileRef
from aiorch.contracts.messages import ParamValue
from aiorch.runtime.broker import TRANSIENT, Bus
from aiorch.runtime.storage import ObjectStore, upload_key

from . import agents
from .config import GatewaySettings
from .models import TaskCreate
from .principals import Principal
from .records import load_record
from .uploads import SNIFF_BYTES, UploadProblem, detect_media_type, unique_safe_names


BUS_UNAVAILABLE = (*TRANSIENT, nats.errors.ConnectionClosedError, asyncio.TimeoutError)
"""What a JetStream write meets when no server can store it: a cluster without a majority
of its servers (no stream leader), or no server reachable at all."""


def bus_unavailable(exc: Exception, what: str = "the task store") -> HTTPException:
    """503 for a write JetStream did not acknowledge, saying why (never a hang, never a 500)."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"{what} is not accepting writes: NATS JetStream did not acknowledge ({type(exc).__name__}); "
        "a NATS cluster needs a majority of its servers up. Nothing was submitted; try again shortly.",
        headers={"Retry-After": "2"},
    )


async def create_record(kv: KeyValue, task_id: str, data: bytes, within_s: float = 6.0, attempt_s: float = 2.0) -> None:
    """Write a new task's record, riding out a stream leader election (a NATS node died: a
    few seconds) for up to `within_s`, each try given `attempt_s` (one sent to a dead leader
    is not waited for long); then 503 (a cluster without a majority: no leader comes).
    The id is new, so finding it written means an earlier try was stored."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    tried = False
    while True:
        try:
            await asyncio.wait_for(kv.create(task_id, data), max(min(attempt_s, deadline - loop.time()), 0.1))
            return
        except KeyWrongLastSequenceError:
            if tried:
                return
            raise
        except (*BUS_UNAVAILABLE, KeyNotFoundError) as exc:
            # KeyNotFoundError: nats-py's create() found the key's sequence taken but could not
            # read it back (mid-election, an earlier try of ours half-visible): try again.
            tried = True
            if loop.time() + 0.25 > deadline:
                raise bus_unavailable(exc) from None
            await asyncio.sleep(0.25)


class Submission(BaseModel):
    """A checked body, whichever form it came in."""

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


def body_errors(exc: ValidationError) -> list[dict]:
    """The errors of a body, without the input itself (never echoed, and maybe not text)."""
    return [
        {"loc": ("body", *error["loc"]), "msg": error["msg"], "type": error["type"],
         **({"ctx": {key: str(value) for key, value in error["ctx"].items()}} if error.get("ctx") else {})}
        for error in exc.errors(include_url=False)
    ]


def _too_many_files(settings: GatewaySettings) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("body", "files"), "msg": f"at most {settings.max_files} files per task", "type": "too_long"}])


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
    """Hash the upload (and store it when `persist`; a dry run only hashes it)."""
    digest = hashlib.sha256()
    while chunk := upload.file.read(1024 * 1024):
        digest.update(chunk)
    upload.file.seek(0)
    if persist:
        store.put_stream(key, upload.file, size, media_type)
    return FileRef(key=key, name=name, media_type=media_type, size=size, sha256=digest.hexdigest())


def _check_accepted(name: str, media_type: str) -> None:
    accepted = agents.accepted_media_types()  # the registered agents' types, as they come and go
    if media_type not in accepted:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"{name} is {media_type}, which no agent takes; accepted types: {', '.join(accepted)}",
        )
