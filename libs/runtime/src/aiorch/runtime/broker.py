"""NATS JetStream connection, idempotent provisioning, publishing and pull consumption."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nats
import nats.errors
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
from nats.js.errors import (
    APIError,
    BadRequestError,
    BucketNotFoundError,
    NoStreamResponseError,
    NotFoundError,
    ServiceUnavailableError,
)
from nats.js.kv import KeyValue

from aiorch.contracts import Message, subjects

from .logs import get_logger
from .tracing import with_trace_headers

log = get_logger(__name__)

DAY = 24 * 3600


@dataclass(frozen=True)
class BusLimits:
    task_history_s: float = 0.0
    """Age limit of the task stream and bucket; 0: none. The retention sweep
    (aiorch.runtime.retention) removes a task's record and messages after its owner's
    retention (AIORCH_RETENTION, per principal), which may be longer than any fixed age."""
    work_max_age_s: float = DAY
    duplicate_window_s: float = 120.0
    max_value_bytes: int = 1024 * 1024
    replicas: int = 1
    """Replicas of every stream and of the task bucket (AIORCH_NATS_REPLICAS)."""


def stream_configs(limits: BusLimits = BusLimits()) -> list[StreamConfig]:
    return [
        StreamConfig(
            name=subjects.STREAM_TASKS,
            subjects=[subjects.TASKS_ALL],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=limits.task_history_s,
            duplicate_window=limits.duplicate_window_s,
            num_replicas=limits.replicas,
        ),
        StreamConfig(
            name=subjects.STREAM_WORK,
            subjects=[subjects.AGENT_REQUESTS_ALL],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            max_age=limits.work_max_age_s,
            duplicate_window=limits.duplicate_window_s,
            num_replicas=limits.replicas,
        ),
        StreamConfig(
            name=subjects.STREAM_RESULTS,
            subjects=[subjects.STEP_RESULTS, subjects.STEP_PROGRESS],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            max_age=limits.work_max_age_s,
            duplicate_window=limits.duplicate_window_s,
            num_replicas=limits.replicas,
        ),
    ]


async def _disconnected() -> None:
    log.warning("disconnected from NATS; reconnecting")


async def _error(exc: Exception) -> None:
    log.warning("NATS connection error", error=str(exc) or type(exc).__name__)


def _reconnected(nc_ref: list) -> Callable[[], Awaitable[None]]:
    async def reconnected() -> None:
        log.info("reconnected to NATS", server=str(nc_ref[0].connected_url.netloc if nc_ref[0].connected_url else ""))

    return reconnected


async def connect(settings, name: str) -> Client:
    """Connect to any of the servers of `settings.nats_url` (comma-separated); the client
    also learns the rest of a cluster from the server and reconnects, forever, to any of
    them. Subscriptions (pull consumers' inboxes included) are restored on reconnect, and
    what is published meanwhile is buffered, then sent."""
    from .natsauth import inbox_prefix

    nc_ref: list = []
    options: dict = {
        "name": name, "max_reconnect_attempts": -1, "reconnect_time_wait": 0.5, "drain_timeout": 5,
        "connect_timeout": 2, "disconnected_cb": _disconnected, "error_cb": _error,
        "reconnected_cb": _reconnected(nc_ref),
    }
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
    servers = getattr(settings, "nats_servers", None) or [settings.nats_url]
    nc = await nats.connect(servers, **options)
    nc_ref.append(nc)
    return nc


def _stream_of(subject: str) -> str | None:
    """The aiorch stream whose subjects take `subject` (None: no stream of ours)."""
    tokens = subject.split(".")
    for config in stream_configs():
        for pattern in config.subjects:
            parts = pattern.split(".")
            if (parts[-1] == ">" and len(tokens) >= len(parts) and all(
                    p in ("*", t) for p, t in zip(parts[:-1], tokens, strict=False))) or (
                    len(parts) == len(tokens) and all(p in ("*", t) for p, t in zip(parts, tokens, strict=True))):
                return config.name
    return None


def _ordered(subject: str) -> bool:
    """A task's event subject: clients read it in order."""
    tokens = subject.split(".")
    return len(tokens) == 4 and subject.startswith(subjects.TASKS_PREFIX + ".") and tokens[3] == "events"


TRANSIENT = (
    nats.errors.TimeoutError, NoStreamResponseError, nats.errors.NoRespondersError, ServiceUnavailableError,
    nats.errors.OutboundBufferLimitError,
)
"""What a publish meets while a cluster elects a new stream leader or the client reconnects."""


def _surely_not_stored(exc: Exception) -> bool:
    """No server took the message: sending it again cannot store it twice."""
    return isinstance(exc, NoStreamResponseError | nats.errors.NoRespondersError | ServiceUnavailableError |
                      nats.errors.OutboundBufferLimitError)


class Bus:
    """One NATS connection and its JetStream context, shared by a service."""

    def __init__(self, nc: Client, limits: BusLimits = BusLimits()) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.limits = limits
        self._kv: KeyValue | None = None
        self._tails: dict[str, asyncio.Future] = {}

    publish_retry_s: float = 20.0
    """How long a publish is retried while the stream has no leader (an election after a
    node died takes a few seconds); then the error goes to the caller."""

    @classmethod
    async def open(cls, settings, name: str) -> "Bus":
        replicas = getattr(settings, "nats_replicas", 1)
        return cls(await connect(settings, name), BusLimits(replicas=replicas))

    async def provision(self) -> None:
        """Create or update the streams and the KV bucket (the planner's job; idempotent).

        An existing stream is updated in place, never deleted: its messages, consumers and
        their positions stay. A replica count the servers cannot give (3 on one server)
        fails with the reason, naming AIORCH_NATS_REPLICAS."""
        for config in stream_configs(self.limits):
            try:
                await self.js.add_stream(config)
            except BadRequestError:
                await self._update_stream(config)
        await self.tasks_kv()
        await self._limit_record_age()
        buckets = [f"KV_{subjects.KV_TASKS}", *await self._registry_bucket()]
        for name in buckets:
            await self._scale_stream(name)
        for name in [*(config.name for config in stream_configs(self.limits)), *buckets]:
            await self._wait_for_leader(name)

    async def _registry_bucket(self) -> list[str]:
        """The agent registry's bucket, with the replicas of the rest: on a cluster, a node's
        death must not take the registry and with it every agent's heartbeat."""
        from aiorch.contracts import REGISTRY_BUCKET

        from .registry import registry_kv  # registry.py builds on this module

        await registry_kv(self.js, create=True, replicas=self.limits.replicas)
        return [f"KV_{REGISTRY_BUCKET}"]

    async def _wait_for_leader(self, stream: str, timeout_s: float = 30.0) -> None:
        """A stream just created or scaled on a cluster takes a moment to elect its leader."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            info = await self.js.stream_info(stream)
            if info.cluster is None or info.cluster.leader:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"stream {stream} has no leader after {timeout_s:.0f}s; are enough NATS "
                                   f"servers up for AIORCH_NATS_REPLICAS={self.limits.replicas}?")
            await asyncio.sleep(0.1)

    async def _update_stream(self, config: StreamConfig) -> None:
        current = (await self.js.stream_info(config.name)).config
        if current.num_replicas != config.num_replicas:
            log.info("changing a stream's replicas", stream=config.name, replicas=config.num_replicas,
                     was=current.num_replicas)
        try:
            await self.js.update_stream(config)
        except APIError as exc:
            raise RuntimeError(f"cannot update stream {config.name}: {exc.description} "
                               f"(AIORCH_NATS_REPLICAS={config.num_replicas})") from exc

    async def _scale_stream(self, name: str) -> None:
        """Give an existing stream (a KV bucket's) the configured replicas, nothing else changed."""
        config = (await self.js.stream_info(name)).config
        if config.num_replicas == self.limits.replicas:
            return
        log.info("changing a stream's replicas", stream=name, replicas=self.limits.replicas, was=config.num_replicas)
        config.num_replicas = self.limits.replicas
        try:
            await self.js.update_stream(config)
        except APIError as exc:
            raise RuntimeError(f"cannot update stream {name}: {exc.description} "
                               f"(AIORCH_NATS_REPLICAS={self.limits.replicas})") from exc

    async def _limit_record_age(self) -> None:
        """Give an existing task bucket the configured age limit (none by default), nothing
        else changed: a bucket made with a TTL keeps its records past it from now on."""
        name = f"KV_{subjects.KV_TASKS}"
        config = (await self.js.stream_info(name)).config
        if (config.max_age or 0) == self.limits.task_history_s:
            return
        log.info("changing the task bucket's age limit", stream=name, max_age_s=self.limits.task_history_s,
                 was_s=config.max_age)
        config.max_age = self.limits.task_history_s
        await self.js.update_stream(config)

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
                        replicas=self.limits.replicas,
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

    async def publish(self, subject: str, message: Message, msg_id: str | None = None,
                      retry_for_s: float | None = None):
        """Publish to JetStream and wait for the stream's ack (at-least-once); the PubAck.

        While the stream has no leader (a node died, a new leader is being elected) or the
        client reconnects, the publish is tried again for `retry_for_s` (default
        `publish_retry_s`). A message with an id is tried again after a timeout as well:
        the stream's duplicate window drops it if the first try was stored after all."""
        headers = {"Nats-Msg-Id": msg_id} if msg_id else None
        return await self.publish_bytes(subject, message.model_dump_json().encode(), headers, retry_for_s)

    async def publish_bytes(self, subject: str, payload: bytes, headers: dict | None = None,
                            retry_for_s: float | None = None):
        """`publish` of bytes already encoded (with its headers, `Nats-Msg-Id` among them).

        A task's events are stored in the order they are published: one waits for the ack
        of the one before it on the same subject (a retried event is not overtaken). Inside
        a span, the message carries its `traceparent` (aiorch.runtime.tracing)."""
        headers = with_trace_headers(headers)
        if not _ordered(subject):
            return await self._publish_bytes(subject, payload, headers, retry_for_s)
        previous = self._tails.get(subject)
        mine = asyncio.get_running_loop().create_future()
        self._tails[subject] = mine
        try:
            if previous is not None:
                await asyncio.shield(previous)
            return await self._publish_bytes(subject, payload, headers, retry_for_s)
        finally:
            mine.set_result(None)
            if self._tails.get(subject) is mine:
                del self._tails[subject]

    async def _publish_bytes(self, subject: str, payload: bytes, headers: dict | None, retry_for_s: float | None):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.publish_retry_s if retry_for_s is None else retry_for_s)
        idempotent = bool(headers and headers.get("Nats-Msg-Id"))
        delay = 0.1
        while True:
            try:
                return await self.js.publish(subject, payload, headers=headers)
            except TRANSIENT as exc:
                if loop.time() + delay > deadline or not (idempotent or _surely_not_stored(exc)):
                    raise
                log.info("publish not acknowledged; trying again", subject=subject, error=type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def publish_many(self, items: list[tuple[str, Message, str | None]]) -> None:
        """Publish several messages in order: a run of messages to one stream goes out together
        (a task's events one after another); the next run waits for their acks. So what a message
        sets off (a dispatched step, then its result and the events after it) never reaches a
        stream before the messages listed ahead of it, even when a stream leader dies midway."""
        runs: list[list[tuple[str, Message, str | None]]] = []
        for item in items:
            if runs and _stream_of(runs[-1][0][0]) == _stream_of(item[0]):
                runs[-1].append(item)
            else:
                runs.append([item])
        for run in runs:
            await self._publish_run(run)

    async def _publish_run(self, run: list[tuple[str, Message, str | None]]) -> None:
        await asyncio.gather(*(self.publish(subject, message, msg_id) for subject, message, msg_id in run))

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
