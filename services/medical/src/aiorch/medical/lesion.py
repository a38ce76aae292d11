"""Where the lesion is: a simple dark-region segmentation (Otsu's threshold on brightness, the
dermatoscope's dark corners left out). It tells a photo of plain skin ("no distinct lesion")
from a lesion close-up, and is the reference the Grad-CAM test compares the heatmap with.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

SIDE = 128


@dataclass(frozen=True)
class Segmentation:
    mask: np.ndarray
    """(h, w) bool at a thumbnail's size: True on the lesion."""
    area: float
    """The lesion's share of the photo's lit area."""
    contrast: float
    """How much darker the lesion is than the skin around it (0: not at all, 1: black on white)."""


def segment(image: Image.Image) -> Segmentation:
    small = image.convert("RGB")
    small.thumbnail((SIDE, SIDE))
    rgb = np.asarray(small.filter(ImageFilter.GaussianBlur(2)), dtype=np.float32)
    # Lesions are darker and bluer-browner than skin: luminance with a little extra weight on blue.
    brightness = 0.3 * rgb[..., 0] + 0.45 * rgb[..., 1] + 0.25 * rgb[..., 2]
    height, width = brightness.shape
    rows, cols = np.mgrid[0:height, 0:width]
    radius = np.hypot((rows - height / 2) / (height / 2), (cols - width / 2) / (width / 2))
    # The dermatoscope's vignette: very dark pixels away from the centre are the instrument, not skin.
    lit = ~((brightness < 40) & (radius > 0.6))
    values = brightness[lit]
    if values.size < 16:
        return Segmentation(np.zeros_like(lit), 0.0, 0.0)
    threshold = _otsu(values)
    mask = lit & (brightness < threshold)
    inside, outside = brightness[mask], brightness[lit & ~mask]
    if inside.size == 0 or outside.size == 0:
        return Segmentation(mask, 0.0, 0.0)
    contrast = float((np.median(outside) - np.median(inside)) / max(float(np.median(outside)), 1.0))
    return Segmentation(mask, float(mask.sum() / lit.sum()), contrast)


def _otsu(values: np.ndarray) -> float:
    histogram, edges = np.histogram(values, bins=64)
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(histogram)
    total = weight[-1]
    mean = np.cumsum(histogram * centres)
    between = (mean[-1] * weight / total - mean) ** 2 / np.maximum(weight * (total - weight), 1)
    return float(centres[int(np.argmax(between[:-1]))])
