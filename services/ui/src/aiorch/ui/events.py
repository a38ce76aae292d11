"""Follows a task's WebSocket in a background thread; the page redraws from what arrived.

If the connection drops (a gateway restart), it reconnects with `?after=<last seq>`, so
the gateway replays only what was missed."""

import json
import threading
import time

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

TERMINAL = {"completed", "failed", "cancelled", "rejected"}


class EventFollower:
    def __init__(self, events_url: str, api_key: str, task_id: str) -> None:
        self.url = f"{events_url}/v1/tasks/{task_id}/events"
        self.api_key = api_key
        self.task_id = task_id
        self.events: list[dict] = []
        self.problem: str | None = None
        self.finished = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"events-{task_id}", daemon=True)
        self._thread.start()

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self.events)

    def stop(self) -> None:
        self._stop.set()

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self.events[-1]["seq"] if self.events else 0

    def _run(self) -> None:
        delay = 0.25
        while not self._stop.is_set() and not self.finished:
            try:
                with connect(f"{self.url}?after={self.last_seq}", open_timeout=5,
                             additional_headers={"Authorization": f"Bearer {self.api_key}"}) as ws:
                    self.problem = None
                    delay = 0.25
                    for message in ws:
                        event = json.loads(message)
                        with self._lock:
                            if not self.events or event["seq"] > self.events[-1]["seq"]:
                                self.events.append(event)
                        if event["type"] in TERMINAL:
                            self.finished = True
                            return
            except InvalidStatus as exc:
                self.problem = f"the gateway refused the event stream ({exc.response.status_code})"
            except ConnectionClosed as exc:
                if exc.rcvd and exc.rcvd.code in (4401, 4404):
                    self.problem = exc.rcvd.reason
                    self.finished = True
                    return
                self.problem = "connection to the gateway lost; reconnecting…"
            except OSError:
                self.problem = "the gateway is not reachable; reconnecting…"
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
