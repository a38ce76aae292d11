"""Grad-CAM points at the lesion on real dermoscopy photos (HAM10000 samples in ../shared/data),
and is a property of the trained weights: shuffled weights give another heatmap (Adebayo et
al.'s sanity check). The reference is the simple dark-region segmentation of lesion.py."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from aiorch.contracts import PatientInfo
from aiorch.medical.images import load_rgb
from aiorch.medical.lesion import segment
from aiorch.medical.models import SkLesionModel

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "ham10000-sample"
PHOTOS = sorted(SAMPLES.glob("*.jpg"))[:4] if SAMPLES.is_dir() else []
pytestmark = pytest.mark.skipif(not PHOTOS, reason=f"no HAM10000 sample photos in {SAMPLES}")


def _heat_on_lesion(model: SkLesionModel, path: Path) -> tuple[np.ndarray, float, float]:
    """The heatmap at the segmentation's size, the heatmap's share of mass on the lesion, and the
    lesion's share of the photo (what a heatmap spread evenly would score). The lesion is grown by
    a few pixels: a Grad-CAM cell is an eighth of the photo wide, so its edges blur past the border."""
    photo = load_rgb(path.read_bytes(), path.name)[0]
    heat = model.predict(photo, PatientInfo(), explain=True).heatmap
    found = segment(photo)
    height, width = found.mask.shape
    heat = np.asarray(Image.fromarray(heat.astype(np.float32)).resize((width, height), Image.Resampling.BILINEAR))
    lesion = np.asarray(Image.fromarray(found.mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(5))) > 0
    return heat, float(heat[lesion].sum() / max(heat.sum(), 1e-9)), float(lesion.mean())


@pytest.fixture(scope="module")
def heatmaps(model):
    return [_heat_on_lesion(model, path) for path in PHOTOS]


def test_most_of_the_heatmap_lies_on_the_lesion(heatmaps):
    shares = [share for _, share, _ in heatmaps]
    assert np.median(shares) > 0.5, shares
    # Denser on the lesion than a heatmap spread evenly over the photo (which scores its area).
    assert np.mean([share / area for _, share, area in heatmaps]) > 1.3, heatmaps


def test_a_shuffled_weight_model_gives_another_heatmap(model_folder, heatmaps):
    shuffled = SkLesionModel(model_folder, calibrated=False)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # every tensor from the middle flow on (blocks 5-14) and the head, values permuted
        for name, tensor in shuffled.net.named_parameters():
            if not name.startswith(("normalization", "xception.block1_", "xception.block2", "xception.block3",
                                    "xception.block4")):
                flat = tensor.view(-1) if tensor.is_contiguous() else tensor.reshape(-1)
                tensor.copy_(flat[torch.randperm(flat.numel(), generator=generator)].view_as(tensor))
    correlations = []
    for path, (heat, _, _) in zip(PHOTOS, heatmaps, strict=True):
        other = np.nan_to_num(_heat_on_lesion(shuffled, path)[0])
        correlations.append(np.nan_to_num(np.corrcoef(heat.ravel(), other.ravel())[0, 1]))
    assert np.mean(correlations) < 0.5, correlations
