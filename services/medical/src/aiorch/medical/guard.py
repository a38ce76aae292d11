"""Out-of-scope guard: refuse photos that are not close-ups of skin before classifying.

The classifier answers one of seven lesion types for *any* picture; a street, a document
or an x-ray would get a confident, meaningless label. These checks read what close-up skin
photos share (colour, skin hues, smooth natural texture) and name what they saw instead.
Measured in `make bench` on ordinary photos, documents, screenshots and x-ray-like images.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class GuardReport:
    colourfulness: float
    flat_fraction: float
    skin_fraction: float
    foreign_fraction: float
    edge_density: float
    saturation: float

    def refusal(self) -> str | None:
        if self.colourfulness < 6:
            return "the image is grayscale (an x-ray, a scan or a black-and-white photo), not a colour photo of skin"
        if self.flat_fraction > 0.35:
            return "the image has large flat areas like a screenshot, a document or a drawing, not a photo of skin"
        if self.foreign_fraction > 0.25:
            return "much of the image has colours skin does not have (sky, plants, blue or green objects)"
        if self.skin_fraction < 0.45:
            return "too little of the image looks like skin; take a close-up of the lesion"
        if self.edge_density > 0.03:
            return "the image is full of sharp edges like a scene or text, not a close-up of skin"
        if self.saturation > 0.65:
            return "the colours are far more saturated than skin's"
        return None


def inspect(image: Image.Image) -> GuardReport:
    small = image.copy()
    small.thumbnail((256, 256))
    rgb = np.asarray(small, dtype=np.float32)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # Hasler & Süsstrunk's colourfulness.
    rg, yb = red - green, 0.5 * (red + green) - blue
    colourfulness = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    hsv = np.asarray(small.convert("HSV"), dtype=np.float32)
    hue, saturation, value = hsv[..., 0] * 360 / 255, hsv[..., 1] / 255, hsv[..., 2] / 255
    lit = value > 0.12  # the dark ring of a dermatoscope says nothing either way
    skin_hue = (hue < 50) | (hue > 320)
    skin = lit & skin_hue & (saturation > 0.08) & (saturation < 0.85)
    foreign = lit & ~skin_hue & (saturation > 0.2)
    lit_count = max(int(lit.sum()), 1)
    # Flat areas: neighbours with exactly equal values, which photos (sensor noise) almost never have.
    crop = np.asarray(_center_crop(image, 512).convert("L"), dtype=np.int16)
    flat = (np.diff(crop, axis=1)[:-1, :] == 0) & (np.diff(crop, axis=0)[:, :-1] == 0)
    # Hairs are thin dark lines on real lesion photos; a grayscale closing (max then min
    # filter) removes them (the idea of DullRazor) so that only a scene's larger edges count.
    gray = _closing(rgb.mean(axis=2), 5)
    gradient = np.hypot(np.diff(gray, axis=1)[:-1, :], np.diff(gray, axis=0)[:, :-1])
    return GuardReport(
        colourfulness=colourfulness,
        flat_fraction=float(flat.mean()),
        skin_fraction=float(skin.sum() / lit_count),
        foreign_fraction=float(foreign.sum() / lit_count),
        edge_density=float((gradient > 40).mean()),
        saturation=float(np.median(saturation[lit])) if lit.any() else 0.0,
    )


def _closing(gray: np.ndarray, size: int) -> np.ndarray:
    """Grayscale morphological closing with a size x size square (max filter, then min filter)."""
    return _rank_filter(_rank_filter(gray, size, np.maximum), size, np.minimum)


def _rank_filter(gray: np.ndarray, size: int, pick) -> np.ndarray:
    half = size // 2
    padded = np.pad(gray, half, mode="edge")
    rows = padded[:, : gray.shape[1]].copy()
    for shift in range(1, size):  # separable: along rows, then along columns
        rows = pick(rows, padded[:, shift : shift + gray.shape[1]])
    result = rows[: gray.shape[0]].copy()
    for shift in range(1, size):
        result = pick(result, rows[shift : shift + gray.shape[0]])
    return result


def _center_crop(image: Image.Image, side: int) -> Image.Image:
    left, top = max((image.width - side) // 2, 0), max((image.height - side) // 2, 0)
    return image.crop((left, top, left + min(side, image.width), top + min(side, image.height)))


def refusal_reason(image: Image.Image) -> str | None:
    return inspect(image).refusal()
