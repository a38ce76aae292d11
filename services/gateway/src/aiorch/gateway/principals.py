"""Who is calling: API keys as named principals with scopes.

Two sources, used together:

- `AIORCH_API_KEYS`: comma-separated keys, each its own principal `key-<8 hex digits of its
  SHA-256>` with the scopes `submit` and `read`.
- `AIORCH_API_KEYS_FILE`: one principal a line, `name scopes sha256 [retention=7d]`, e.g.
  `ui submit,read 9f86d081…` (`#` starts a comment). The file holds the keys' SHA-256, never
  the keys. It is re-read when it changes, so deleting a line revokes that key at once.

Scopes: `submit` (submit, dry-run plan, cancel, delete), `read` (list, read, follow, download),
`admin` (everything, on every principal's tasks). Keys are compared in constant time.

A bus principal (another system's NATS user, see aiorch.runtime.natsauth) and the principal
of the same name here are one: the tasks it publishes on `aiorch.tasks.submitted.<name>`
are owned by `<name>`, so this principal's key reads them and its `retention=` applies.
"""

import hashlib
import hmac
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from aiorch.runtime.logs import get_logger
from aiorch.runtime.retention import parse_duration

log = get_logger(__name__)

MIN_KEY_LENGTH = 16
SCOPES = ("submit", "read", "admin")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[str]
    retention_s: float | None = None
    digest: str = field(default="", repr=False, compare=False)

    @property
    def admin(self) -> bool:
        return "admin" in self.scopes

    def can(self, scope: str) -> bool:
        return self.admin or scope in self.scopes

    def sees(self, owner: str | None) -> bool:
        """Whether this principal may see a task owned by `owner`."""
        return self.admin or (owner is not None and hmac.compare_digest(owner.encode(), self.name.encode()))


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeysFileError(ValueError):
    pass


def parse_keys_file(path: Path) -> list[Principal]:
    """The principals of a keys file; KeysFileError names the file and line of a mistake."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise KeysFileError(f"{path}: cannot read the keys file ({exc.strerror})") from None
    principals: list[Principal] = []
    names: set[str] = set()
    digests: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue

        def fail(message: str, number: int = number) -> KeysFileError:
            return KeysFileError(f"{path}:{number}: {message}")

        fields = line.split()
        if len(fields) not in (3, 4):
            raise fail("expected 'name scopes sha256 [retention=<duration>]'")
        name, scopes_text, digest = fields[:3]
        if not NAME_PATTERN.match(name):
            raise fail(f"invalid name {name!r} (letters, digits, '_', '.', '@', '-'; at most 64)")
        if name in names:
            raise fail(f"principal {name!r} appears twice")
        scopes = [scope for scope in scopes_text.split(",") if scope]
        unknown = [scope for scope in scopes if scope not in SCOPES]
        if not scopes or unknown:
            raise fail(f"scopes must be a comma-separated subset of {','.join(SCOPES)} (got {scopes_text!r})")
        digest = digest.lower()
        if not _SHA256.match(digest):
            raise fail("the third field must be the key's SHA-256 (64 hex digits), never the key itself")
        if digest in digests:
            raise fail("the same key hash appears twice")
        retention = None
        if len(fields) == 4:
            option, _, value = fields[3].partition("=")
            if option != "retention":
                raise fail(f"unknown option {option!r} (only retention=<duration>)")
            try:
                retention = parse_duration(value)
            except ValueError as exc:
                raise fail(str(exc)) from None
        names.add(name)
        digests.add(digest)
        principals.append(Principal(name, frozenset(scopes), retention, digest))
    return principals


class Principals:
    """Resolves a Bearer key to its principal; follows changes of the keys file."""

    def __init__(self, keys: list[str], keys_file: Path | None, default_retention_s: float) -> None:
        self.default_retention_s = default_retention_s
        self._env = [Principal(f"key-{key_digest(key)[:8]}", frozenset({"submit", "read"}), None, key_digest(key))
                     for key in keys]
        self._file = keys_file
        self._stamp: tuple | None = None
        self._from_file: list[Principal] = []
        self._lock = threading.Lock()
        self._reload()

    def _reload(self) -> None:
        if self._file is None:
            return
        try:
            stat = os.stat(self._file)
            stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            stamp = None
        if stamp == self._stamp and stamp is not None:
            return
        with self._lock:
            try:
                self._from_file = parse_keys_file(self._file)
            except KeysFileError as exc:
                # Fail closed: a broken file grants nothing until it is fixed.
                log.error("keys file rejected; its keys are refused until it is fixed", error=str(exc))
                self._from_file = []
            self._stamp = stamp

    def all(self) -> list[Principal]:
        self._reload()
        return [*self._env, *self._from_file]

    def authenticate(self, key: str | None) -> Principal | None:
        if not key:
            return None
        digest = key_digest(key).encode()
        found = None
        for principal in self.all():  # no early exit: the time does not depend on which key matched
            if hmac.compare_digest(digest, principal.digest.encode()) and found is None:
                found = principal
        return found

    def retention_of(self, owner: str | None) -> float:
        for principal in self.all():
            if principal.name == owner and principal.retention_s:
                return principal.retention_s
        return self.default_retention_s
