"""NATS JetStream connection, idempotent provisioning, publishing and pull consumption."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from aiorch.contracts import Message, subjects

from .logs import get_logger

log = get_logger(__name__)

DAY = 24 * 3600


@dataclass(frozen=True)
class BusLimits:
    task_history_s: float = 7 * DAY
    work_max_age_s: float = DAY
    duplicate_window_s: float = 120.0
    max_value_bytes: int = 1024 * 1024


def stream_configs(limits: BusLimits = BusLimits()) -> list[StreamConfig]:
    return [
        StreamConfig(
            name=subjects.STREAM_TASKS,
            subjects=[subjects.TASKS_ALL],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=limits.task_history_s,
            duplicate_window=limits.duplicate_window_s,
        ),
        StreamConfig(
            name=subjects.STREAM_WORK,
            subjects=[subjects.AGENT_REQUESTS_ALL],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            max_age=limits.work_max_age_s,
            duplicate_window=limits.duplicate_window_s,
        ),
        StreamConfig(
            name=subjects.STREAM_RESULTS,
            subjects=[subjects.STEP_RESULTS, subjects.STEP_PROGRESS],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            max_age=limits.work_max_age_s,
            duplicate_window=limits.duplicate_window_s,
        ),
    ]


async def connect(settings, name: str) -> Client:
    from .natsauth import inbox_prefix

    options: dict = {"name": name, "max_reconnect_attempts": -1, "reconnect_time_wait": 0.5, "drain_timeout": 5}
    if settings.nats_user:
        # Replies come to a per-service inbox: the NATS permissions let no one else read it.
        options["inbox_prefix"] = inbox_prefix(settings.nats_user)
    if settings.nats_user:
        options["user"] = settings.nats_user
        options["password"] = settings.nats_password.get_secret_value() if settings.nats_password else None
    if settings.nats_creds_file:
        options["user_credentials"] = str(settings.nats_creds_file)
    if settings.nats_tls_ca_file:
        import ssl

        options["tls"] = ssl.create_default_context(cafile=str(settings.nats_tls_ca_file))
    return await nats.connect(settings.nats_url, **options)


class Bus:
    """One NATS connection and its JetStream context, shared by a service."""

    def __init__(self, nc: Client, limits: BusLimits = BusLimits()) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.limits = limits
        self._kv: KeyValue | None = None

    @classmethod
    async def open(cls, settings, name: str) -> "Bus":
        return cls(await connect(settings, name))

    async def provision(self) -> None:
        """Create or update the streams and the KV bucket (the planner's job; idempotent)."""
        for config in stream_configs(self.limits):
            try:
                await self.js.add_stream(config)
            except BadRequestError:
                await self.js.update_stream(config)
        await self.tasks_kv()

    async def wait_for_streams(self, streams: list[str], timeout_s: float = 120.0) -> None:
        """Services other than the planner only check that the streams exist."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        for stream in streams:
            while True:
                try:
                    await self.js.stream_info(stream)
                    break
                except NotFoundError:
                    if asyncio.get_running_loop().time() > deadline:
                        raise RuntimeError(f"stream {stream} does not exist; is the planner running?") from None
                    log.info("waiting for the planner to create the streams", stream=stream)
                    await asyncio.sleep(1.0)

    async def tasks_kv(self) -> KeyValue:
        if self._kv is None:
            try:
                self._kv = await self.js.key_value(subjects.KV_TASKS)
            except BucketNotFoundError:
                self._kv = await self.js.create_key_value(
                    KeyValueConfig(
                        bucket=subjects.KV_TASKS,
                        history=1,
                        ttl=self.limits.task_history_s,
                        max_value_size=self.limits.max_value_bytes,
                        storage=StorageType.FILE,
                    )
                )
        return self._kv

    async def ensure_consumer(
        self,
        stream: str,
        durable: str,
        filter_subject: str,
        *,
        ack_wait_s: float = 30.0,
        max_deliver: int = 5,
        max_ack_pending: int = 1000,
    ) -> None:
        config = ConsumerConfig(
            durable_name=durable,
            filter_subject=filter_subject,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ack_wait_s,
            max_deliver=max_deliver,
            max_ack_pending=max_ack_pending,
        )
        await self.js.add_consumer(stream, config)

    async def publish(self, subject: str, message: Message, msg_id: str | None = None):
        """Publish to JetStream and wait for the stream's ack (at-least-once); the PubAck."""
        headers = {"Nats-Msg-Id": msg_id} if msg_id else None
        return await self.js.publish(subject, message.model_dump_json().encode(), headers=headers)

    async def publish_many(self, items: list[tuple[str, Message, str | None]]) -> None:
        """Publish several messages in order, waiting for all acks together."""
        if not items:
            return
        await asyncio.gather(*(self.publish(subject, message, msg_id) for subject, message, msg_id in items))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.nc.drain()


Handler = Callable[[Msg], Awaitable[None]]


class PullWorker:
    """Reads a durable pull consumer and runs `handler` on up to `concurrency` messages at once.

    The handler acks, naks or terminates each message itself. `stop()` stops fetching and
    waits for the messages in hand, so SIGTERM loses nothing.
    """

    def __init__(self, bus: Bus, stream: str, durable: str, handler: Handler, *, concurrency: int = 8) -> None:
        self.bus, self.stream, self.durable = bus, stream, durable
        self.handler = handler
        self.concurrency = concurrency
        self._inflight: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.ready = False

    async def start(self) -> None:
        self._sub = await self.bus.js.pull_subscribe_bind(self.durable, self.stream)
        self.ready = True
        self._task = asyncio.create_task(self._loop(), name=f"pull-{self.durable}")

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            await self._slots.acquire()
            free = 1
            while free < self.concurrency and not self._slots.locked():
                await self._slots.acquire()
                free += 1
            try:
                msgs = await self._sub.fetch(free, timeout=1.0)
            except (TimeoutError, asyncio.TimeoutError, NotFoundError):
                msgs = []
            except Exception as exc:  # connection trouble: back off, the client reconnects
                if self._stopping.is_set():
                    msgs = []
                else:
                    log.warning("fetch failed", consumer=self.durable, error=str(exc))
                    await asyncio.sleep(0.5)
                    msgs = []
            for _ in range(free - len(msgs)):
                self._slots.release()
            for msg in msgs:
                task = asyncio.create_task(self._run(msg))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)

    async def _run(self, msg: Msg) -> None:
        try:
            await self.handler(msg)
        except Exception:
            log.exception("handler crashed; message will be redelivered", consumer=self.durable)
            with contextlib.suppress(Exception):
                await msg.nak(delay=1.0)
        finally:
            self._slots.release()

    async def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, timeout=2.0)
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=timeout)
        with contextlib.suppress(Exception):
            await self._sub.unsubscribe()
        self.ready = False
