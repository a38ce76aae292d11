"""Reference photos for calibrating and measuring the agent (never used at run time).

Real dermoscopy: the ISIC 2018 test photos and HAM10000 training photos in the shared data
folder (`../shared/data` beside the checkout, or $AIORCH_SHARED_DATA). Real non-lesion photos:
scikit-image's and scikit-learn's bundled samples (with crops of each), and generated documents,
screenshots and x-ray-like images. Every set is split the same way everywhere: the calibration
may look at the "dev" half only, the other half is "held-out".
"""

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[5]
CLASSES = ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]


def shared_data() -> Path:
    return Path(os.environ.get("AIORCH_SHARED_DATA") or REPO.parent / "shared" / "data")


@dataclass(frozen=True)
class Photo:
    name: str
    """A display name ("isic2018-dev/<file>", "skimage/coffee[crop 2]", "document 3")."""
    category: str
    split: str  # dev | held-out
    label: str | None = None  # the HAM10000 class, for dermoscopy
    path: Path | None = None
    make: object = None  # () -> Image, for pictures made in memory

    def image(self) -> Image.Image:
        if self.path is not None:
            return Image.open(self.path).convert("RGB")
        return self.make()

    def data(self) -> bytes:
        return self.path.read_bytes()


def dermoscopy(folder: Path | None = None) -> list[Photo]:
    """The ISIC 2018 test photos (labelled) and the HAM10000 sample photos, split alternately in
    sorted file-name order within each class (and within the HAM sample)."""
    root = folder or shared_data()
    photos: list[Photo] = []
    isic = root / "isic2018-dev"
    if (isic / "labels.csv").is_file():
        with open(isic / "labels.csv", newline="") as handle:
            rows = sorted(csv.DictReader(handle), key=lambda row: row["file"])
        for code in CLASSES:
            for index, row in enumerate(row for row in rows if row["dx"] == code):
                photos.append(Photo(f"isic2018-dev/{row['file']}", "ISIC 2018 test dermoscopy",
                                    "dev" if index % 2 == 0 else "held-out", code, isic / row["file"]))
    ham = root / "ham10000-sample"
    for index, path in enumerate(sorted(ham.glob("*.jpg")) if ham.is_dir() else []):
        photos.append(Photo(f"ham10000-sample/{path.name}", "HAM10000 training dermoscopy",
                            "dev" if index % 2 == 0 else "held-out", None, path))
    return photos


_SKIMAGE_COLOUR = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
                   "colorwheel", "logo"]
_SKIMAGE_GRAY = ["camera", "coins", "moon", "page", "text", "brick", "grass", "gravel", "horse", "clock", "cell",
                 "microaneurysms", "checkerboard"]


def _skimage(name: str) -> Image.Image:
    from skimage import data as samples

    if name.startswith("motorcycle"):
        array = samples.stereo_motorcycle()[0 if name.endswith("left") else 1]
    else:
        array = getattr(samples, name)()
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[..., :3]
    return Image.fromarray(array).convert("RGB")


def _sklearn(name: str) -> Image.Image:
    from sklearn.datasets import load_sample_image

    return Image.fromarray(load_sample_image(name))


def _crop(make, index: int):
    """Quadrant crops (index 1-4) of a photo: more real non-lesion pictures, at close range."""
    def cropped() -> Image.Image:
        image = make()
        width, height = image.size
        left, top = ((index - 1) % 2) * width // 2, ((index - 1) // 2) * height // 2
        return image.crop((left, top, left + width // 2, top + height // 2))
    return cropped


def _close_up(make, row: int, column: int):
    """A crop of 40% of a photo's width and height on a 3x3 grid: closer framings, the way a phone
    photo of fur, a plant or food would come in when someone aims at a "spot"."""
    def cropped() -> Image.Image:
        image = make()
        width, height = image.size
        side_x, side_y = int(width * 0.4), int(height * 0.4)
        left, top = int((width - side_x) * column / 2), int((height - side_y) * row / 2)
        return image.crop((left, top, left + side_x, top + side_y))
    return cropped


def non_lesion() -> list[Photo]:
    """Real photos (each whole, as four quadrant crops and, for colour photos, as nine close-ups),
    documents, screenshots, x-ray-like images. Whole photos alternate between dev and held-out in
    sorted name order; a photo's crops follow it, so no picture is in both halves."""
    from functools import partial

    from .synth import document_page, screenshot, xray

    sources = [(f"skimage/{name}", "scikit-image colour photos", partial(_skimage, name))
               for name in _SKIMAGE_COLOUR + ["motorcycle_left", "motorcycle_right"]]
    sources += [(f"sklearn/{name}", "scikit-learn sample photos", partial(_sklearn, name))
                for name in ("china.jpg", "flower.jpg")]
    sources += [(f"skimage/{name}", "scikit-image grayscale images", partial(_skimage, name)) for name in _SKIMAGE_GRAY]
    photos: list[Photo] = []
    for index, (name, category, make) in enumerate(sorted(sources)):
        split = "dev" if index % 2 == 0 else "held-out"
        photos.append(Photo(name, category, split, make=make))
        photos += [Photo(f"{name}[crop {crop}]", category, split, make=_crop(make, crop)) for crop in range(1, 5)]
        if "grayscale" not in category:
            photos += [Photo(f"{name}[close-up {row}{column}]", f"{category}, close-ups", split,
                             make=_close_up(make, row, column)) for row in range(3) for column in range(3)]
    for kind, maker in (("documents", document_page), ("screenshots", screenshot), ("x-ray-like images", xray)):
        for seed in range(20):
            photos.append(Photo(f"{kind} {seed}", f"generated {kind}", "dev" if seed % 2 == 0 else "held-out",
                                make=partial(lambda m, s: m(s).convert("RGB"), maker, seed)))
    return photos


def by_split(photos: list[Photo], split: str) -> Iterator[Photo]:
    return (photo for photo in photos if split in ("all", photo.split))
