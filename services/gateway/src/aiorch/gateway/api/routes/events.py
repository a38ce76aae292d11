"""The live events WebSocket: a task's events from the bus, relayed until it ends.

Apart from the tasks router because a WebSocket authenticates itself (no Depends on a
header: browsers cannot set one) and has no OpenAPI entry."""

import asyncio
import contextlib
import json

from fastapi import APIRouter, HTTPException, WebSocket
from starlette.websockets import WebSocketDisconnect

from aiorch.contracts import TERMINAL_EVENTS, subjects

from ...deps import websocket_key
from ...records import load_record

router = APIRouter(tags=["tasks"])


@router.websocket("/v1/tasks/{task_id}/events")
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
