"""Test doubles and helpers: moto's S3 server, a fake OpenAI server, a reader of step
results. The launcher of real services (nats-server, aiorch services, the whole system)
is aiorch.runtime.local."""

import subprocess
import sys
import time
from pathlib import Path

from aiorch.runtime.local import free_port, wait_for_port


class MotoS3Server:
    """moto's standalone S3 API server on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "MotoS3Server":
        moto = Path(sys.executable).parent / "moto_server"
        self.process = subprocess.Popen(
            [str(moto), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, timeout=30, process=self.process)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class FakeOpenAI:
    """A local OpenAI-compatible chat-completions server for tests of the real `openai`
    client. `answer(body) -> str | tuple[int, dict]` returns the assistant's content, or
    an HTTP status and JSON body; `delay_s` makes it slow (for timeouts)."""

    def __init__(self, answer) -> None:
        import threading

        import uvicorn
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        self.answer = answer
        self.delay_s = 0.0
        self.requests: list[dict] = []

        async def completions(request: Request) -> JSONResponse:
            import asyncio

            body = await request.json()
            self.requests.append(body)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            reply = self.answer(body)
            if isinstance(reply, tuple):
                return JSONResponse(reply[1], status_code=reply[0])
            return JSONResponse({
                "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "test"),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": reply}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            })

        app = Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        wait_for_port(self.port)
        return self

    def __exit__(self, *_) -> None:
        self.server.should_exit = True
        self.thread.join(5)


class StepResults:
    """Reads step results (and progress) off the bus, as the orchestrator would."""

    def __init__(self, bus) -> None:
        self.bus = bus

    async def start(self) -> "StepResults":
        from aiorch.contracts import subjects

        await self.bus.ensure_consumer(subjects.STREAM_RESULTS, "test-results", subjects.STEP_RESULTS)
        await self.bus.ensure_consumer(subjects.STREAM_RESULTS, "test-progress", subjects.STEP_PROGRESS)
        self._results = await self.bus.js.pull_subscribe_bind("test-results", subjects.STREAM_RESULTS)
        self._progress = await self.bus.js.pull_subscribe_bind("test-progress", subjects.STREAM_RESULTS)
        return self

    async def next(self, timeout: float = 10.0):
        from aiorch.contracts import StepResult

        msg = (await self._results.fetch(1, timeout=timeout))[0]
        await msg.ack()
        return StepResult.model_validate_json(msg.data)

    async def progress(self) -> list:
        from aiorch.contracts import StepProgress

        try:
            msgs = await self._progress.fetch(50, timeout=1.0)
        except TimeoutError:
            return []
        return [StepProgress.model_validate_json(msg.data) for msg in msgs]
