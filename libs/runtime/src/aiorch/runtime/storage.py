"""Object storage behind one interface: a local folder (default) or S3 via the minio SDK.

Keys look like `uploads/<task_id>/<name>` and `artifacts/<task_id>/<step_id>/<name>`.
The API is synchronous (the minio SDK is); async callers use a worker thread.
"""

import hashlib
import io
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from aiorch.contracts import FileRef

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_CHUNK = 1024 * 1024


class ObjectNotFound(KeyError):
    pass


def safe_name(name: str, fallback: str = "file") -> str:
    """A storable file name: no folders, no leading dots, only [A-Za-z0-9._-], ≤ 100 chars."""
    base = PurePosixPath(name.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip("._") or fallback
    if len(cleaned) > 100:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (stem[: 99 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else cleaned[:100]
    return cleaned


def upload_key(task_id: str, name: str) -> str:
    return f"uploads/{task_id}/{name}"


def artifact_key(task_id: str, step_id: str, name: str) -> str:
    return f"artifacts/{task_id}/{step_id}/{name}"


def _check_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(part in ("..", ".") for part in parts):
        raise ValueError(f"invalid object key {key!r}")
    return key


class ObjectStore(ABC):
    @abstractmethod
    def put_stream(self, key: str, stream: BinaryIO, size: int, media_type: str) -> None: ...

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable stream of the object; raises ObjectNotFound."""

    @abstractmethod
    def size(self, key: str) -> int:
        """Size in bytes; raises ObjectNotFound."""

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def list_keys(self, prefix: str = "") -> list[str]:
        """Every object key that starts with `prefix` (a folder ends with '/')."""

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix`; how many there were."""
        keys = self.list_keys(prefix)
        for key in keys:
            self.delete(key)
        return len(keys)

    def put(self, key: str, name: str, data: bytes, media_type: str) -> FileRef:
        self.put_stream(_check_key(key), io.BytesIO(data), len(data), media_type)
        return FileRef(
            key=key, name=name, media_type=media_type, size=len(data), sha256=hashlib.sha256(data).hexdigest()
        )

    def put_file(self, key: str, name: str, path: Path, media_type: str) -> FileRef:
        digest = hashlib.sha256()
        with path.open("rb") as source:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
        size = path.stat().st_size
        with path.open("rb") as source:
            self.put_stream(_check_key(key), source, size, media_type)
        return FileRef(key=key, name=name, media_type=media_type, size=size, sha256=digest.hexdigest())

    def get(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    def iter_chunks(self, key: str, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        with self.open(key) as stream:
            while chunk := stream.read(chunk_size):
                yield chunk

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ObjectNotFound:
            return False
        return True


class LocalObjectStore(ObjectStore):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / _check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"invalid object key {key!r}")
        return path

    def put_stream(self, key: str, stream: BinaryIO, size: int, media_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so readers never see half a file.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, prefix=".part-") as target:
            while chunk := stream.read(_CHUNK):
                target.write(chunk)
        os.replace(target.name, path)

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path.stat().st_size

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        # Remove the folders it leaves empty, up to the root.
        for parent in path.parents:
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:
                break

    def list_keys(self, prefix: str = "") -> list[str]:
        folder = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        if not folder.resolve().is_relative_to(self.root) or not folder.is_dir():
            return []
        keys = []
        for path in folder.rglob("*"):
            if path.is_file() and not path.name.startswith(".part-"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)


class S3ObjectStore(ObjectStore):
    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = True,
        region: str | None = None,
    ) -> None:
        from minio import Minio

        self.bucket = bucket
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region)
        if not self.client.bucket_exists(bucket):
            self.client.make_bucket(bucket)

    def put_stream(self, key: str, stream: BinaryIO, size: int, media_type: str) -> None:
        self.client.put_object(self.bucket, _check_key(key), stream, size, content_type=media_type)

    def open(self, key: str) -> BinaryIO:
        from minio.error import S3Error

        try:
            response = self.client.get_object(self.bucket, _check_key(key))
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectNotFound(key) from None
            raise
        return _Response(response)

    def size(self, key: str) -> int:
        from minio.error import S3Error

        try:
            return self.client.stat_object(self.bucket, _check_key(key)).size
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                raise ObjectNotFound(key) from None
            raise

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, _check_key(key))

    def list_keys(self, prefix: str = "") -> list[str]:
        return sorted(item.object_name for item in self.client.list_objects(self.bucket, prefix=prefix, recursive=True))


class _Response(io.RawIOBase):
    """File-like view of a urllib3 response that releases the connection on close."""

    def __init__(self, response) -> None:
        self._response = response

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._response.read(None if size is None or size < 0 else size)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._response.close()
            self._response.release_conn()
        super().close()


def make_store(settings) -> ObjectStore:
    """The store named by `ServiceSettings`."""
    if settings.storage_backend == "s3":
        return S3ObjectStore(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            bucket=settings.s3_bucket,
            secure=settings.s3_secure,
            region=settings.s3_region,
        )
    return LocalObjectStore(settings.storage_path)
