"""The gateway's HTTP API, for the UI."""

from dataclasses import dataclass

import httpx


class GatewayDown(Exception):
    """The gateway does not answer."""


@dataclass
class GatewayError(Exception):
    status: int
    message: str


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return response.text[:300]
    if isinstance(detail, list):  # FastAPI validation errors
        return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', [])[1:])}: {e.get('msg')}" for e in detail)
    return str(detail)


class GatewayClient:
    def __init__(self, base_url: str, api_key: str, timeout: float = 30.0) -> None:
        self.http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout)

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise GatewayDown(f"{self.http.base_url} does not answer ({type(exc).__name__})") from None
        if response.status_code >= 400:
            raise GatewayError(response.status_code, _detail(response))
        return response

    def limits(self) -> dict:
        return self._call("GET", "/v1/limits").json()

    def submit(self, request: str, files: list[tuple[str, bytes]]) -> dict:
        if files:
            return self._call("POST", "/v1/tasks", data={"request": request},
                              files=[("files", (name, data)) for name, data in files]).json()
        return self._call("POST", "/v1/tasks", json={"request": request}).json()

    def plan(self, request: str, files: list[tuple[str, bytes]]) -> dict:
        if files:
            return self._call("POST", "/v1/plan", data={"request": request},
                              files=[("files", (name, data)) for name, data in files]).json()
        return self._call("POST", "/v1/plan", json={"request": request}).json()

    def task(self, task_id: str) -> dict:
        return self._call("GET", f"/v1/tasks/{task_id}").json()

    def tasks(self, limit: int = 20) -> list[dict]:
        return self._call("GET", "/v1/tasks", params={"limit": limit}).json()["tasks"]

    def cancel(self, task_id: str) -> None:
        self._call("POST", f"/v1/tasks/{task_id}/cancel")

    def artifact(self, task_id: str, name: str) -> bytes:
        return self._call("GET", f"/v1/tasks/{task_id}/artifacts/{name}").content
