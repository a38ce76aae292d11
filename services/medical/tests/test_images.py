"""Decoding: formats, orientation, colour modes and the inputs that must be refused clearly."""

import io
import struct
import zlib

import pytest
from PIL import Image

from aiorch.medical.errors import ImageProblem
from aiorch.medical.images import load_rgb, quality_warnings
from aiorch.medical.synth import lesion_photo


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_common_photo_formats_decode_to_rgb(fmt):
    image, notes = load_rgb(encode(lesion_photo(1, 200), fmt), f"x.{fmt.lower()}")
    assert image.mode == "RGB" and image.size == (200, 200) and notes == []


def test_exif_orientation_is_applied():
    wide = lesion_photo(2, 200).crop((0, 0, 200, 120))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    image, notes = load_rgb(encode(wide, "JPEG", exif=exif), "phone.jpg")
    assert image.size == (120, 200) and "rotated upright" in notes[0]


@pytest.mark.parametrize(
    "mode, note",
    [("L", "grayscale"), ("CMYK", "CMYK"), ("RGBA", "transparent"), ("LA", "transparent")],
)
def test_other_colour_modes_are_converted_with_a_note(mode, note):
    source = lesion_photo(3, 100).convert(mode)
    image, notes = load_rgb(encode(source, "JPEG" if mode == "CMYK" else "PNG"), "x")
    assert image.mode == "RGB" and any(note in text for text in notes)


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "data, code, words",
    [
        (b"name,age\nann,3\n", "not_an_image", "not a JPEG, PNG, WebP or HEIC"),
        (encode(lesion_photo(4, 300), "JPEG")[:2000], "corrupt_image", "truncated or corrupt"),
        (_png_header_only(30_000, 30_000), "image_too_large", "decompression bomb"),
        (encode(Image.new("RGB", (20, 40), (200, 150, 130)), "PNG"), "image_too_small", "20×40 px"),
    ],
    ids=["csv", "truncated", "bomb", "tiny"],
)
def test_bad_files_are_refused_with_a_reason(data, code, words):
    with pytest.raises(ImageProblem) as raised:
        load_rgb(data, "upload")
    assert raised.value.code == code and words in raised.value.message


def test_quality_warnings_name_the_problem():
    assert quality_warnings(lesion_photo(5, 400)) == []
    small = quality_warnings(lesion_photo(5, 100))
    assert any("low resolution" in warning for warning in small)
    dark = Image.eval(lesion_photo(5, 400), lambda value: value // 8)
    assert any("very dark" in warning for warning in quality_warnings(dark))
    flat = Image.new("RGB", (400, 400), (200, 150, 130))
    assert any("blurry" in warning for warning in quality_warnings(flat))
