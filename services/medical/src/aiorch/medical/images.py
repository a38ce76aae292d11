"""Photo decoding: JPEG, PNG, WebP and HEIC with Pillow; EXIF orientation; colour modes;
size limits; and the quality warnings a person should see next to a result."""

import io
import warnings

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from .errors import ImageProblem

register_heif_opener()
MIN_SIDE = 32
ORIENTATION = 0x0112  # the EXIF tag
MAX_PIXELS = 40_000_000
"""Pillow's decompression-bomb limit: a 20 kB PNG can claim gigapixels."""
FORMATS = ["JPEG", "PNG", "WEBP", "HEIF"]  # phone MPO files open as JPEG


def load_rgb(data: bytes, name: str, max_pixels: int = MAX_PIXELS) -> tuple[Image.Image, list[str]]:
    """The photo upright, as 8-bit RGB, with notes on what was converted."""
    notes: list[str] = []
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            image.load()
    except UnidentifiedImageError:
        raise ImageProblem("not_an_image", f"{name} is not a JPEG, PNG, WebP or HEIC image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageProblem("image_too_large",
                           f"{name} claims more than {max_pixels:,} pixels; refusing it as a possible "
                           "decompression bomb") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageProblem("corrupt_image", f"{name} could not be decoded (truncated or corrupt): {exc}") from None
    if min(image.size) < MIN_SIDE:
        raise ImageProblem("image_too_small",
                           f"{name} is {image.width}×{image.height} px; at least {MIN_SIDE} px on each side is needed")
    if image.getexif().get(ORIENTATION, 1) != 1:
        image = ImageOps.exif_transpose(image)
        notes.append("rotated upright from its EXIF orientation")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
        notes.append("transparent areas were filled with white")
    elif image.mode == "CMYK":
        notes.append("converted from CMYK to RGB")
    elif image.mode in ("L", "I", "I;16", "F", "1"):
        notes.append("grayscale image: converted to RGB, but colour is what the model reads")
    return image.convert("RGB"), notes


def quality_warnings(image: Image.Image) -> list[str]:
    """What may make a result less reliable: size, blur, exposure, shape."""
    found = []
    short, long = sorted(image.size)
    if short < 128:
        found.append(f"low resolution ({image.width}×{image.height} px): details are lost; use a sharper photo")
    if long / short > 2:
        found.append("very elongated image: it is stretched to a square; crop it around the lesion")
    gray = image.convert("L")
    gray.thumbnail((512, 512))
    pixels = np.asarray(gray, dtype=np.float32)
    brightness = float(pixels.mean())
    if brightness < 40:
        found.append("very dark photo: use more light")
    elif brightness > 225:
        found.append("overexposed photo: details are washed out")
    edges = np.asarray(gray.filter(ImageFilter.FIND_EDGES), dtype=np.float32)[1:-1, 1:-1]
    if edges.var() < 15:
        found.append("the photo looks blurry: hold the camera still and focus on the lesion")
    return found
