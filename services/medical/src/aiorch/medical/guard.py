"""Out-of-scope guard: refuse pictures that are not skin-lesion close-ups, warn on borderline ones.

Two stages. Before the network, cheap checks for what is plainly not a photo of skin: a
grayscale image (x-ray, scan) or large exactly-flat areas (screenshot, document, drawing).
After it, colour and texture measured against their range on real dermoscopy, alone and together
(fine texture, redness and saturation: fur is skin-coloured but textured and yellow-brown), and how
far the photo's embedding lies from real dermoscopy (calibration.py), with thresholds set on real
dermoscopy photos by `python -m aiorch.medical.calibrate`. Hand-set colour rules refused 16% of
real dermoscopy (dark, vignetted, hairy, bluish photos); limits measured on those photos do not.
A photo between the two thresholds is classified with a warning: refusing a melanoma is worse
than a cautious answer on an odd photo.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image

from .calibration import Calibration
from .lesion import segment

WHAT_TO_DO = "send a sharp, close-up colour photo of the skin lesion (ideally through a dermatoscope)"
# A lesion at least this much darker than the skin around it; lower is plain skin or a faint mark.
MIN_CONTRAST = 0.08


@dataclass(frozen=True)
class Verdict:
    refusal: str | None = None
    warnings: tuple[str, ...] = ()


def precheck(image: Image.Image) -> str | None:
    """What needs no network to see: the reason to refuse, or None."""
    small = image.copy()
    small.thumbnail((256, 256))
    rgb = np.asarray(small, dtype=np.float32)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # Hasler & Süsstrunk's colourfulness: a dermoscopy photo is never gray.
    rg, yb = red - green, 0.5 * (red + green) - blue
    if float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())) < 6:
        return f"the image is grayscale (an x-ray, a scan or a black-and-white photo), not a colour photo of skin; {WHAT_TO_DO}"
    if flat_fraction(image) > 0.35:
        return (f"the image has large flat areas like a screenshot, a document or a drawing, not a photo of skin; "
                f"{WHAT_TO_DO}")
    return None


def flat_fraction(image: Image.Image) -> float:
    """Share of lit pixels whose neighbours have exactly their value: sensor noise makes that rare in
    photos; the dermatoscope's black corners are left out (they are flat too)."""
    crop = _center_crop(image, 512)
    gray = np.asarray(crop.convert("L"), dtype=np.int16)
    flat = (np.diff(gray, axis=1)[:-1, :] == 0) & (np.diff(gray, axis=0)[:, :-1] == 0)
    lit = gray[:-1, :-1] > 24
    return float((flat & lit).sum() / max(int(lit.sum()), 1))


# What each measured property says when it is beyond real dermoscopy.
SEEN = {
    "edge_density": "the image is full of sharp edges like a scene or text, not a close-up of skin",
    "saturation": "the colours are far more saturated than skin's",
    "colourfulness": "the image is far more colourful than skin",
    "foreign_fraction": "much of the image has colours skin does not have (sky, plants, blue or green objects)",
}


def measure(image: Image.Image) -> dict[str, float]:
    """Colour and texture properties whose range on real dermoscopy the calibration knows."""
    small = image.copy()
    small.thumbnail((256, 256))
    rgb = np.asarray(small, dtype=np.float32)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    rg, yb = red - green, 0.5 * (red + green) - blue
    hsv = np.asarray(small.convert("HSV"), dtype=np.float32)
    hue, saturation, value = hsv[..., 0] * 360 / 255, hsv[..., 1] / 255, hsv[..., 2] / 255
    lit = value > 0.12  # the dark ring of a dermatoscope says nothing either way
    foreign = lit & ~((hue < 50) | (hue > 320)) & (saturation > 0.2)
    # Hairs are thin dark lines on lesion photos; a grayscale closing (max then min filter) removes
    # them (the idea of DullRazor) so that only a scene's larger edges count.
    gray = _closing(rgb.mean(axis=2), 5)
    gradient = np.hypot(np.diff(gray, axis=1)[:-1, :], np.diff(gray, axis=0)[:, :-1])
    # Fine texture left after the closing: fur, fabric, wood grain and food keep it; skin is smooth.
    fine = np.abs(gray - _blur(gray, 2.0))
    return {
        "edge_density": float((gradient > 40).mean()),
        "saturation": float(np.median(saturation[lit])) if lit.any() else 0.0,
        "colourfulness": float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())),
        "foreign_fraction": float(foreign.sum() / max(int(lit.sum()), 1)),
        "fine_texture": float(fine[lit].mean() / max(float(gray[lit].mean()), 1.0)) if lit.any() else 0.0,
        # Blood makes skin under a dermatoscope red-pink; fur, wood and food are yellow-brown.
        "redness": float(np.median(rg[lit]) - np.median(yb[lit])) if lit.any() else 0.0,
    }


APPEARANCE = ("fine_texture", "redness", "saturation")
"""Judged together (calibration.Calibration.appearance_score): each alone overlaps with real
dermoscopy (hairy photos are textured, some skin is yellowish), a textured *and* yellow photo does not."""


def appearance(measured: dict[str, float]) -> np.ndarray:
    return np.array([np.log(measured["fine_texture"] + 1e-3), measured["redness"], measured["saturation"]])


def decide(image: Image.Image, distance: float | None, calibrated: Calibration | None) -> Verdict:
    """After the network: refuse far-off photos, warn on borderline ones and on no visible lesion."""
    warnings: list[str] = []
    if calibrated is not None:
        measured = measure(image)
        for name, (_, refuse) in calibrated.limits.items():
            if measured[name] > refuse:
                return Verdict(refusal=f"{SEEN[name]}; {WHAT_TO_DO}")
        unusual = [name for name, (warn, _) in calibrated.limits.items() if measured[name] > warn]
        looks = appearance(measured)
        score = calibrated.appearance_score(looks)
        # Only a textured photo is refused on appearance: smooth skin of a tone the (mostly light-skinned)
        # dermoscopy photos lack, or a phone photo's lighting, gets the warning instead.
        if score is not None and score > calibrated.appearance_refuse and calibrated.finer_than_dermoscopy(looks):
            return Verdict(refusal=(f"its colours and fine texture are unlike skin under a dermatoscope (fur, fabric, "
                                    f"wood or food?; score {score:.1f}, real dermoscopy photos score up to 1.0); "
                                    f"{WHAT_TO_DO}"))
        if score is not None and score > 1.0:
            unusual.append("colour and texture together")
        if unusual:
            warnings.append(f"unusual photo for this model ({', '.join(name.replace('_', ' ') for name in unusual)} "
                            "beyond real dermoscopy photos): the result is less reliable")
    if distance is not None and calibrated is not None:
        if distance > calibrated.refuse:
            return Verdict(refusal=(f"it does not look like a skin-lesion close-up to the model (out-of-scope score "
                                    f"{distance / calibrated.warn:.1f}, real dermoscopy photos score up to 1.0); "
                                    f"{WHAT_TO_DO}"))
        if distance > calibrated.warn:
            warnings.append(f"unusual photo for this model (out-of-scope score {distance / calibrated.warn:.1f}, "
                            "above real dermoscopy photos): the result is less reliable; a dermatoscope close-up "
                            "of the lesion is better")
    elif calibrated is None:
        warnings.append("this model has no calibrated out-of-scope check: make sure the photo is a skin-lesion "
                        "close-up")
    found = segment(image)
    if found.contrast < MIN_CONTRAST or not 0.005 <= found.area <= 0.97:
        warnings.append("no distinct lesion found (plain skin, a tattoo or a faint mark?): low-confidence result; "
                        "centre the photo on the spot you are worried about")
    return Verdict(warnings=tuple(warnings))


def _blur(gray: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (numpy only: the service needs no scipy)."""
    radius = int(3 * sigma)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(gray, radius, mode="reflect")
    rows = sum(weight * padded[:, shift : shift + gray.shape[1]] for shift, weight in enumerate(kernel))
    return sum(weight * rows[shift : shift + gray.shape[0]] for shift, weight in enumerate(kernel))


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
