"""Shared request dependencies: settings, bus, store, API-key check."""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from aiorch.runtime.broker import Bus
from aiorch.runtime.storage import ObjectStore

from .config import GatewaySettings

bearer = HTTPBearer(auto_error=False, description="An API key from AIORCH_API_KEYS")


def key_is_valid(settings: GatewaySettings, key: str | None) -> bool:
    if not key:
        return False
    return any(hmac.compare_digest(key.encode(), known.encode()) for known in settings.keys())


def require_api_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not key_is_valid(request.app.state.settings, credentials.credentials):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid API key", headers={"WWW-Authenticate": "Bearer"})


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
