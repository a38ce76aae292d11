"""The agent registry on the bus: agents publish their spec, the gateway and the planner follow it.

An agent service writes an `AgentRegistration` (its `AgentSpec`, an instance id, a heartbeat
time and how long it stays valid) to the KV bucket `REGISTRY_BUCKET` under
`<agent>.<instance>` when it starts, writes it again every heartbeat, and deletes it when
it stops (`Registration`).

`RegistryView` watches the bucket and keeps, at every moment, the effective spec of each
live agent, what became of the ones that left (stopped, or silent past their heartbeat's
validity: "the plan says why"), and the problems it found. Bad registrations never break the
others: a value that does not parse, names another key, carries an unknown schema major,
or gives a media type another agent already owns a different meaning is rejected and
logged. Instances of one agent with different versions are reported; the newest spec
wins when its major version is the one that runs already (a compatible upgrade),
otherwise the established one stays until it leaves.
"""

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from aiorch.contracts import REGISTRY_BUCKET, AgentRegistration, AgentSpec, registry_key, utcnow

from .logs import get_logger

log = get_logger(__name__)

BUCKET_TTL_S = 3600.0
"""Registrations nobody refreshed for this long leave the bucket (a crashed agent's key)."""


async def registry_kv(js: JetStreamContext, create: bool = True, wait_s: float = 30.0, replicas: int = 1) -> KeyValue:
    """The registry bucket; created when missing (by whoever comes first, when allowed; the
    planner's provisioning gives an existing one the configured replicas)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return await js.key_value(REGISTRY_BUCKET)
        except BucketNotFoundError:
            if create:
                try:
                    return await js.create_key_value(KeyValueConfig(
                        bucket=REGISTRY_BUCKET, history=1, ttl=BUCKET_TTL_S, storage=StorageType.FILE,
                        max_value_size=256 * 1024, replicas=replicas))
                except Exception as exc:  # not allowed (NATS permissions) or created meanwhile: wait for it
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"cannot open the agent registry {REGISTRY_BUCKET}: {exc}") from None
            elif time.monotonic() > deadline:
                raise
        except Exception as exc:  # not allowed to look (NATS permissions), or the server is away
            if time.monotonic() > deadline:
                raise RuntimeError(f"cannot open the agent registry {REGISTRY_BUCKET}: {exc!r}") from None
        await asyncio.sleep(0.5)


MAX_VALIDITY_S = 300.0
"""However long an agent says its beat is valid, a view keeps it at most this long."""


def _validity(registration: AgentRegistration) -> float:
    return min(registration.ttl_s, MAX_VALIDITY_S)


def _server_age(created) -> float | None:
    """Seconds since the server stored an entry (None when the entry does not say)."""
    if not isinstance(created, datetime):
        return None
    return (utcnow() - created).total_seconds()


def _version_key(version: str) -> tuple[int, ...]:
    """Comparable: "1.0" and "1.0.0" are the same version."""
    core = version.split("-", 1)[0].split("+", 1)[0]
    parts = [int(part) for part in core.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


class Registration:
    """One agent instance in the registry: put at start, refreshed every `heartbeat_s`, deleted at stop."""

    def __init__(self, spec: AgentSpec, heartbeat_s: float = 5.0, instance: str | None = None) -> None:
        self.spec = spec
        self.heartbeat_s = heartbeat_s
        self.instance = instance or uuid.uuid4().hex[:12]
        self.key = registry_key(spec.name, self.instance)
        self.started_at = utcnow()
        self._kv: KeyValue | None = None
        self._task: asyncio.Task | None = None

    def record(self) -> AgentRegistration:
        return AgentRegistration(instance=self.instance, spec=self.spec, started_at=self.started_at,
                                 heartbeat_at=utcnow(), ttl_s=max(3 * self.heartbeat_s, 1.0))

    async def start(self, js: JetStreamContext) -> None:
        self._kv = await registry_kv(js)
        await self._put()
        self._task = asyncio.create_task(self._beat(), name=f"registry-{self.key}")
        log.info("agent registered", agent=self.spec.name, version=self.spec.version, instance=self.instance)

    async def _put(self) -> None:
        await self._kv.put(self.key, self.record().model_dump_json().encode())

    async def _beat(self) -> None:
        delay = self.heartbeat_s
        while True:
            await asyncio.sleep(delay)
            try:
                await self._put()
                delay = self.heartbeat_s
            except Exception as exc:  # the bus reconnects, or a NATS cluster elects a leader: again soon
                log.warning("registry heartbeat failed", agent=self.spec.name, error=str(exc))
                delay = min(0.5, self.heartbeat_s)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._kv is not None:
            with contextlib.suppress(Exception):
                await self._kv.delete(self.key)


@dataclass
class Instance:
    key: str
    registration: AgentRegistration
    seen: float
    """time.monotonic() of the heartbeat this view last saw (its age at arrival subtracted)."""

    @property
    def spec(self) -> AgentSpec:
        return self.registration.spec


@dataclass(frozen=True)
class Snapshot:
    """The registry as this view sees it now."""

    specs: dict[str, AgentSpec] = field(default_factory=dict)
    """The effective spec of every live agent, by name (sorted)."""
    gone: dict[str, tuple[AgentSpec, str]] = field(default_factory=dict)
    """Agents that were registered and are no longer: their last spec and why they left."""
    instances: dict[str, list[dict]] = field(default_factory=dict)
    """Per live agent: each instance's id, version and start (heartbeats: `RegistryView.instances()`)."""
    problems: list[str] = field(default_factory=list)
    """Rejected registrations and version mismatches, one line each."""

    def accepted_media_types(self) -> list[str]:
        return sorted({media_type for spec in self.specs.values() for media_type in spec.accepts})


class RegistryView:
    """Follows the registry bucket; `snapshot` is always current, `on_change(snapshot)` runs
    (on the loop) whenever the set of live specs, the gone agents or the problems change."""

    def __init__(self, on_change: Callable[[Snapshot], None] | None = None, check_s: float = 0.5,
                 grace_s: float = 0.0) -> None:
        self.on_change = on_change
        self.check_s = check_s
        self.grace_s = grace_s
        """An agent whose last instance stopped or went silent stays planned for this long."""
        self._leaving: dict[str, tuple[Instance, float, str]] = {}
        """Per agent whose last instance stopped within grace_s: that instance, until when, why."""
        self.snapshot = Snapshot()
        self._instances: dict[str, Instance] = {}
        self._gone: dict[str, tuple[AgentSpec, str]] = {}
        self._rejected: dict[str, str] = {}
        self._reported: set[str] = set()
        self._tasks: list[asyncio.Task] = []
        self._watcher = None
        self.ready = asyncio.Event()

    async def start(self, js: JetStreamContext, create: bool = True) -> None:
        kv = await registry_kv(js, create=create)
        self._watcher = await kv.watchall()
        self._tasks = [asyncio.create_task(self._follow(), name="registry-watch"),
                       asyncio.create_task(self._expire_forever(), name="registry-expiry")]
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout=10.0)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._watcher is not None:
            with contextlib.suppress(Exception):
                await self._watcher.stop()

    async def _follow(self) -> None:
        async for entry in self._watcher:
            if entry is None:  # the current values have all arrived
                self._recompute()
                self.ready.set()
                continue
            # How old the beat is, by the server's clock, not the agent's (hosts' clocks drift):
            # a change that arrives while watching was just written.
            age_s = 0.0 if self.ready.is_set() else _server_age(entry.created)
            try:
                self.apply(entry.key, entry.value, entry.operation, age_s=age_s)
            except Exception:
                log.exception("registry entry not applied", key=entry.key)

    async def _expire_forever(self) -> None:
        while True:
            await asyncio.sleep(self.check_s)
            self.expire()

    # --- the state machine (no I/O: tests drive it directly) ----------------------------------

    def apply(self, key: str, value: bytes | None, operation: str | None = None, now: float | None = None,
              age_s: float | None = None) -> None:
        """One change of the bucket: a registration put, or a key deleted or purged; `age_s`
        how long ago it was written (default: from the registration's own heartbeat time)."""
        now = time.monotonic() if now is None else now
        if operation in ("DEL", "PURGE") or not value:
            left = self._instances.pop(key, None)
            self._rejected.pop(key, None)
            if left is not None and not self._live_instances(left.spec.name):
                why = f"it stopped at {_clock(utcnow())}"
                if self.grace_s > 0:  # maybe a restart: its steps can wait in the queue meanwhile
                    self._leaving[left.spec.name] = (left, now + self.grace_s, why)
                else:
                    self._gone[left.spec.name] = (left.spec, why)
                log.info("agent left the registry", agent=left.spec.name, instance=left.registration.instance,
                         grace_s=self.grace_s)
            self._recompute()
            return
        try:
            registration = AgentRegistration.model_validate_json(value)
            if registry_key(registration.spec.name, registration.instance) != key:
                raise ValueError(f"key {key!r} is not {registration.spec.name}.{registration.instance}")
        except (ValidationError, ValueError) as exc:
            self._reject(key, _reason(exc))
            self._instances.pop(key, None)
            self._recompute()
            return
        self._rejected.pop(key, None)
        if age_s is None:
            age_s = (utcnow() - registration.heartbeat_at).total_seconds()
        age = max(age_s, 0.0)
        known = key in self._instances
        self._instances[key] = Instance(key, registration, now - age)
        self._gone.pop(registration.spec.name, None)
        self._leaving.pop(registration.spec.name, None)
        if age > _validity(registration):  # a value left by an instance that died before this view started
            self.expire(now)
        elif not known or self._instances[key].spec != self.snapshot.specs.get(registration.spec.name):
            self._recompute()

    def expire(self, now: float | None = None) -> None:
        """Instances whose heartbeat is older than their validity leave the view."""
        now = time.monotonic() if now is None else now
        stale = [instance for instance in self._instances.values()
                 if now - instance.seen > _validity(instance.registration)]
        for instance in stale:
            del self._instances[instance.key]
            name = instance.spec.name
            if not self._live_instances(name):
                since = _clock(instance.registration.heartbeat_at)
                why = f"it stopped sending heartbeats (last at {since})"
                # A crash the supervisor restarts, or a bus that could not store the beats for a
                # while (a cluster without a majority): its steps can wait in the queue meanwhile.
                if self.grace_s > 0:
                    self._leaving[name] = (instance, now + self.grace_s, why)
                else:
                    self._gone[name] = (instance.spec, why)
                log.warning("agent missed its heartbeats", agent=name, instance=instance.registration.instance,
                            last_heartbeat=since, planned_for_s=self.grace_s)
        over = [name for name, (_, until, _) in self._leaving.items() if now >= until]
        for name in over:
            instance, _, why = self._leaving.pop(name)
            self._gone[name] = (instance.spec, why)
            log.info("agent did not come back; no longer planned for", agent=name, grace_s=self.grace_s)
        if stale or over:
            self._recompute()

    def instances(self) -> dict[str, list[dict]]:
        """Per live agent, its instances now (with their latest heartbeats), oldest first."""
        found: dict[str, list[dict]] = {}
        for instance in sorted(self._instances.values(), key=lambda i: (i.registration.started_at, i.key)):
            if instance.spec.name in self.snapshot.specs:
                found.setdefault(instance.spec.name, []).append(_describe(instance))
        return found

    def _live_instances(self, name: str) -> list[Instance]:
        return [instance for instance in self._instances.values() if instance.spec.name == name]

    def _reject(self, key: str, reason: str) -> None:
        if self._rejected.get(key) != reason:
            log.warning("agent registration rejected", key=key, reason=reason)
        self._rejected[key] = reason

    def _recompute(self) -> None:
        problems = [f"{key}: rejected: {reason}" for key, reason in sorted(self._rejected.items())]
        by_name: dict[str, list[Instance]] = {}
        for instance in sorted(self._instances.values(), key=lambda i: (i.registration.started_at, i.key)):
            by_name.setdefault(instance.spec.name, []).append(instance)
        for name, (instance, _, _) in self._leaving.items():
            by_name.setdefault(name, [instance])
        chosen: dict[str, AgentSpec] = {}
        for name, instances in by_name.items():
            spec, notes = _effective(instances)
            chosen[name] = spec
            problems += [f"{name}: {note}" for note in notes]
        # Media types mean one thing: the agent established first keeps its meaning.
        owners: dict[str, tuple[str, str]] = {}
        specs: dict[str, AgentSpec] = {}
        for name in sorted(chosen, key=lambda n: (by_name[n][0].registration.started_at, n)):
            spec = chosen[name]
            clashes = [f"{media_type} is {owners[media_type][1]} to {owners[media_type][0]}, not {kind}"
                       for media_type, kind in spec.kinds.items()
                       if media_type in owners and owners[media_type][1] != kind]
            if clashes:
                problems.append(f"{name}: rejected: {'; '.join(clashes)}")
                continue
            for media_type, kind in spec.kinds.items():
                owners.setdefault(media_type, (name, kind))
            specs[name] = spec
        for line in problems:
            if line not in self._reported:
                log.warning("agent registry problem", problem=line)
        self._reported = set(problems)
        instances = {name: [_describe(i) for i in by_name[name] if i.key in self._instances] for name in sorted(specs)}
        gone = {name: value for name, value in sorted(self._gone.items()) if name not in specs}
        snapshot = Snapshot(dict(sorted(specs.items())), gone, instances, problems)
        changed = (snapshot.specs, snapshot.gone, snapshot.problems) != (
            self.snapshot.specs, self.snapshot.gone, self.snapshot.problems)
        self.snapshot = snapshot
        if changed and self.on_change is not None:
            try:
                self.on_change(snapshot)
            except Exception:
                log.exception("registry change handler failed")


def _describe(instance: Instance) -> dict:
    registration = instance.registration
    return {"instance": registration.instance, "version": registration.spec.version,
            "started_at": registration.started_at.isoformat(), "heartbeat_at": registration.heartbeat_at.isoformat()}


def _effective(instances: list[Instance]) -> tuple[AgentSpec, list[str]]:
    """Of one agent's instances (oldest first): the spec that counts, and what to report.
    A newer version wins when its major is the established one's; an incompatible one waits."""
    established = instances[0].spec
    spec = established
    versions = sorted({instance.spec.version for instance in instances}, key=_version_key)
    notes = []
    if len(versions) > 1:
        notes.append(f"instances run different versions: {', '.join(versions)}")
    for instance in instances[1:]:
        candidate = instance.spec
        if _version_key(candidate.version) <= _version_key(spec.version):
            continue
        if candidate.major == established.major:
            spec = candidate
        else:
            notes.append(f"version {candidate.version} is incompatible with the running {established.version}; "
                         f"{established.version} stays until its instances leave")
    return spec, notes


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(map(str, first['loc'])) or 'value'}: {first['msg']}"
    return str(exc)


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
