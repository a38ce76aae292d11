"""Both ObjectStore backends pass the same cases: local folder, and S3 through moto's
real S3 API server (MinIO too, where a Docker engine answers)."""

import hashlib
import io

import pytest

from aiorch.runtime.storage import ObjectNotFound, S3ObjectStore, safe_name



def test_put_get_round_trip_with_a_checksummed_ref(store):
    data = "héllo wörld\n".encode()
    ref = store.put("uploads/t_1/a.txt", "a.txt", data, "text/plain")
    assert ref.size == len(data) and ref.sha256 == hashlib.sha256(data).hexdigest()
    assert store.get("uploads/t_1/a.txt") == data
    assert store.size(ref.key) == len(data)
    assert b"".join(store.iter_chunks(ref.key, chunk_size=4)) == data


def test_large_streams_are_stored_whole(store, tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * 40_000)
    ref = store.put_file("artifacts/t_1/s1/big.bin", "big.bin", path, "application/octet-stream")
    assert ref.size == 10_240_000
    assert hashlib.sha256(store.get(ref.key)).hexdigest() == ref.sha256


def test_missing_objects_raise_object_not_found(store):
    assert not store.exists("uploads/t_x/none.txt")
    with pytest.raises(ObjectNotFound):
        store.get("uploads/t_x/none.txt")


def test_keys_that_escape_the_store_are_refused(store):
    for key in ("../etc/passwd", "/abs", "uploads/../../x"):
        with pytest.raises(ValueError, match="invalid object key"):
            store.put_stream(key, io.BytesIO(b"x"), 1, "text/plain")


def test_delete(store):
    store.put("uploads/t_1/d.txt", "d.txt", b"x", "text/plain")
    store.delete("uploads/t_1/d.txt")
    assert not store.exists("uploads/t_1/d.txt")


@pytest.mark.parametrize(
    "name, expected",
    [("../../etc/passwd", "passwd"), ("C:\\Users\\me\\report 1.csv", "report_1.csv"), (".hidden", "hidden"),
     ("ça va?.txt", "a_va_.txt"), ("", "file"), ("a" * 300 + ".csv", "a" * 96 + ".csv")],
)
def test_safe_names(name, expected):
    assert safe_name(name) == expected


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


@pytest.mark.docker
@pytest.mark.skipif(not _docker_available(), reason="no Docker engine answers here")
def test_minio_through_testcontainers():
    from testcontainers.minio import MinioContainer

    with MinioContainer() as minio:
        config = minio.get_config()
        store = S3ObjectStore(config["endpoint"], config["access_key"], config["secret_key"], "aiorch", secure=False)
        ref = store.put("uploads/t_1/a.txt", "a.txt", b"minio", "text/plain")
        assert store.get(ref.key) == b"minio"


def test_listing_and_deleting_a_folder(store):
    for key in ["uploads/t_1/a.txt", "uploads/t_1/b.txt", "uploads/t_10/c.txt", "artifacts/t_1/s1/d.csv"]:
        store.put(key, key.rsplit("/", 1)[1], b"x", "text/plain")
    assert store.list_keys("uploads/t_1/") == ["uploads/t_1/a.txt", "uploads/t_1/b.txt"]
    assert store.delete_prefix("uploads/t_1/") == 2
    assert store.delete_prefix("artifacts/t_1/") == 1
    assert store.list_keys("") == ["uploads/t_10/c.txt"]
    assert store.list_keys("nothing/") == []
