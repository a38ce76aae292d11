"""Shared request dependencies: settings, bus, store, the calling principal."""

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, WebSocket, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from aiorch.runtime.broker import Bus
from aiorch.runtime.storage import ObjectStore

from .config import GatewaySettings
from .principals import Principal, Principals

bearer = HTTPBearer(
    auto_error=False, scheme_name="bearer",
    description="An API key: one of AIORCH_API_KEYS, or one whose SHA-256 is in AIORCH_API_KEYS_FILE.",
)


class Error(BaseModel):
    """Every error except 422 answers this body."""

    detail: str


class ValidationIssue(BaseModel):
    model_config = ConfigDict(extra="allow")
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrors(BaseModel):
    """422: what is wrong with the request, one entry per problem."""

    detail: list[ValidationIssue]


_DESCRIPTIONS = {
    400: "Unreadable request body",
    401: "Missing or invalid API key",
    403: "The API key lacks the scope this route needs",
    404: "No such task (or it belongs to another principal)",
    409: "Conflicts with the task's state",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid request",
    502: "The planner answered with an error",
    503: "A dependency (the bus, the planner) is not available",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error statuses, with their body models."""
    return {code: {"model": ValidationErrors if code == 422 else Error, "description": _DESCRIPTIONS[code]}
            for code in codes}


def get_principals(request: Request) -> Principals:
    return request.app.state.principals


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = get_principals(request).authenticate(credentials.credentials)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    return principal


def require(scope: str):
    """A dependency that answers 403 unless the principal has `scope` (admin has every scope)."""

    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.can(scope):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"principal {principal.name!r} lacks the {scope!r} scope")
        return principal

    return check


def require_api_key(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    return principal


def websocket_key(websocket: WebSocket) -> str | None:
    """Browsers cannot set headers on a WebSocket, so `?api_key=` works too."""
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return websocket.query_params.get("api_key")


def get_settings(request: Request) -> GatewaySettings:
    return request.app.state.settings


def get_bus(request: Request) -> Bus:
    return request.app.state.bus


def get_store(request: Request) -> ObjectStore:
    return request.app.state.store


Settings = Annotated[GatewaySettings, Depends(get_settings)]
BusDep = Annotated[Bus, Depends(get_bus)]
StoreDep = Annotated[ObjectStore, Depends(get_store)]
Reader = Annotated[Principal, Depends(require("read"))]
Submitter = Annotated[Principal, Depends(require("submit"))]
