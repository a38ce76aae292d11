"""Run a long-lived service: start, wait for SIGTERM/SIGINT, drain, stop."""

import asyncio
import signal
from collections.abc import Awaitable, Callable

from .logs import get_logger

log = get_logger(__name__)


def run_service(start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]) -> None:
    """Run a service on uvloop until SIGTERM or SIGINT, then drain."""
    import uvloop

    uvloop.run(run_until_signalled(start, stop))


async def run_until_signalled(start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    await start()
    await stopped.wait()
    log.info("signal received, draining")
    await stop()
    log.info("stopped")
