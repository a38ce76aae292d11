"""Synthetic dermoscopy-like photos for tests and benchmarks: skin of varied tones with an
irregular pigmented lesion, optional hairs and the dark ring of a dermatoscope.

They are not medical data: they exercise the pipeline and the out-of-scope guard where no
real lesion photos may be shipped. The benchmark says so next to every figure they give.
"""

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SKIN_TONES = [(236, 200, 180), (224, 172, 150), (198, 140, 110), (170, 115, 85), (140, 90, 62), (105, 68, 48)]
LESION_TONES = [(120, 70, 50), (90, 50, 35), (60, 35, 30), (150, 80, 80), (110, 60, 70), (170, 110, 90)]


def lesion_photo(seed: int, size: int = 450) -> Image.Image:
    rng = np.random.default_rng(seed)
    skin = np.array(SKIN_TONES[rng.integers(len(SKIN_TONES))], dtype=np.float32)
    coarse = rng.normal(0, 1, (8, 8)).astype(np.float32)
    shading = np.asarray(Image.fromarray(((coarse - coarse.min()) / np.ptp(coarse) * 255).astype(np.uint8))
                                     .resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32)[..., None] / 255 - 0.5
    pixels = skin + shading * 25 + rng.normal(0, 4, (size, size, 3))
    # An irregular blob: a radius that wobbles with a few random harmonics.
    angles = np.linspace(0, 2 * np.pi, 180, endpoint=False)
    radius = size * rng.uniform(0.15, 0.32) * (1 + sum(rng.uniform(0, 0.12) * np.sin(k * angles + rng.uniform(0, 6))
                                                       for k in range(2, 7)))
    center = size / 2 + rng.normal(0, size * 0.05, 2)
    outline = [(center[0] + r * np.cos(a), center[1] + r * np.sin(a)) for a, r in zip(angles, radius)]
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).polygon(outline, fill=255)
    mask = np.asarray(mask.filter(ImageFilter.GaussianBlur(rng.uniform(2, 8))), dtype=np.float32)[..., None] / 255
    lesion = np.array(LESION_TONES[rng.integers(len(LESION_TONES))], dtype=np.float32)
    mottling = np.asarray(Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8))
                          .resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32)[..., None] / 255 - 0.5
    pixels = pixels * (1 - mask) + (lesion + mottling * 40) * mask
    image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(0, 30)):  # hairs
        start = rng.uniform(0, size, 2)
        bend = start + rng.normal(0, size / 3, 2)
        end = bend + rng.normal(0, size / 3, 2)
        draw.line([tuple(start), tuple(bend), tuple(end)], fill=(40, 30, 25), width=int(rng.integers(1, 3)))
    if rng.random() < 0.4:  # the dermatoscope's dark ring
        ring = Image.new("L", (size, size), 0)
        ImageDraw.Draw(ring).ellipse([size * 0.02, size * 0.02, size * 0.98, size * 0.98], fill=255)
        image = Image.composite(image, Image.new("RGB", (size, size), (8, 8, 8)), ring.filter(ImageFilter.GaussianBlur(6)))
    return image.filter(ImageFilter.GaussianBlur(0.6))


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def document_page(seed: int, size: tuple[int, int] = (620, 800)) -> Image.Image:
    """A scanned-looking page of text lines."""
    rng = np.random.default_rng(seed)
    page = Image.new("RGB", size, tuple(int(v) for v in rng.integers(235, 256, 3)))
    draw = ImageDraw.Draw(page)
    y = 40
    while y < size[1] - 40:
        words = " ".join("".join(chr(rng.integers(97, 123)) for _ in range(rng.integers(2, 9))) for _ in range(9))
        draw.text((40, y), words, fill=(20, 20, 20))
        y += int(rng.integers(14, 22))
    return page


def screenshot(seed: int, size: tuple[int, int] = (800, 520)) -> Image.Image:
    """An application window: title bar, sidebar, buttons and text."""
    rng = np.random.default_rng(seed)
    accent = tuple(int(v) for v in rng.integers(0, 256, 3))
    shot = Image.new("RGB", size, (250, 250, 252))
    draw = ImageDraw.Draw(shot)
    draw.rectangle([0, 0, size[0], 36], fill=accent)
    draw.rectangle([0, 36, 180, size[1]], fill=(238, 240, 244))
    for row in range(8):
        draw.text((16, 56 + row * 28), f"Menu item {row}", fill=(40, 40, 60))
        draw.rounded_rectangle([210, 60 + row * 50, 210 + int(rng.integers(120, 500)), 90 + row * 50],
                               radius=6, fill=tuple(int(v) for v in rng.integers(180, 256, 3)))
    return shot


def xray(seed: int, size: int = 512) -> Image.Image:
    """A radiograph-like grayscale image: bright bones on a dark, noisy field."""
    rng = np.random.default_rng(seed)
    image = Image.new("L", (size, size), 20)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(3, 7)):
        x = rng.uniform(0.2, 0.8) * size
        draw.line([(x, 0), (x + rng.normal(0, 40), size)], fill=int(rng.integers(150, 230)), width=int(rng.integers(18, 40)))
    noisy = np.asarray(image.filter(ImageFilter.GaussianBlur(6)), dtype=np.float32) + rng.normal(0, 6, (size, size))
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8))


def plain_skin(seed: int, size: int = 450) -> Image.Image:
    """Skin with no lesion: tone, soft shading, pores and a few fine hairs."""
    rng = np.random.default_rng(seed)
    skin = np.array(SKIN_TONES[rng.integers(len(SKIN_TONES))], dtype=np.float32)
    coarse = rng.normal(0, 1, (6, 6)).astype(np.float32)
    shading = np.asarray(Image.fromarray(((coarse - coarse.min()) / np.ptp(coarse) * 255).astype(np.uint8))
                         .resize((size, size), Image.Resampling.BICUBIC), dtype=np.float32)[..., None] / 255 - 0.5
    pixels = skin + shading * 20 + rng.normal(0, 5, (size, size, 3))
    image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(0, 8)):
        start = rng.uniform(0, size, 2)
        draw.line([tuple(start), tuple(start + rng.normal(0, size / 5, 2))], fill=(60, 45, 35), width=1)
    return image.filter(ImageFilter.GaussianBlur(0.8))


def tattoo(seed: int, size: int = 450) -> Image.Image:
    """Skin with a line tattoo: dark blue-black strokes and a filled shape, no lesion."""
    rng = np.random.default_rng(seed)
    image = plain_skin(seed, size)
    draw = ImageDraw.Draw(image)
    ink = (int(rng.integers(20, 50)), int(rng.integers(30, 60)), int(rng.integers(50, 90)))
    for _ in range(rng.integers(4, 9)):
        points = [tuple(rng.uniform(size * 0.1, size * 0.9, 2)) for _ in range(3)]
        draw.line(points, fill=ink, width=int(rng.integers(4, 10)), joint="curve")
    centre = rng.uniform(size * 0.3, size * 0.7, 2)
    radius = size * rng.uniform(0.05, 0.12)
    draw.polygon([(centre[0] + radius * np.cos(a), centre[1] + radius * np.sin(a))
                  for a in np.linspace(0, 2 * np.pi, 5, endpoint=False)], fill=ink)
    return image.filter(ImageFilter.GaussianBlur(1.0))
