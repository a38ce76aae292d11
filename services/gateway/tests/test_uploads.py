import pytest

from aiorch.gateway.uploads import detect_media_type, unique_safe_names

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452")
JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000")
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00"


@pytest.mark.parametrize(
    "head, name, expected",
    [
        (PNG, "photo.csv", "image/png"),  # the bytes win over the name
        (JPEG, "notes.txt", "image/jpeg"),
        (PDF, "data.csv", "application/pdf"),
        (ZIP, "reviews.csv", "application/zip"),
        (b"\x00\x01\x02\x03binary", "x.txt", "application/octet-stream"),
        (b"a,b,c\n1,2,3\n4,5,6\n", "upload", "text/csv"),
        (b"a;b;c\n1;2;3\n", "data.dat", "text/csv"),
        (b"a\tb\n1\t2\n3\t4\n", "data", "text/tab-separated-values"),
        (b"Hello there.\nI liked the film.\n", "review", "text/plain"),
        (b"one, two\nthree, four\n", "notes.txt", "text/plain"),  # text by content; the name picks plain
        (b"single column\n", "list.csv", "text/csv"),
        ("très bien, merci\n".encode("cp1252"), "avis.txt", "text/plain"),
        ("good".encode("utf-16"), "u16.txt", "text/plain"),
        ("é".encode() * 40000, "cut.txt", "text/plain"),  # a multibyte char cut at the sniff window
    ],
)
def test_media_type_comes_from_the_content(head, name, expected):
    assert detect_media_type(head[: 64 * 1024], name) == expected


def test_stored_names_are_safe_and_unique():
    assert unique_safe_names(["../a.csv", "a.csv", "a.csv", "noext", "noext"]) == [
        "a.csv", "a-2.csv", "a-3.csv", "noext", "noext-2"]
