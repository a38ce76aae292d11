"""The out-of-scope guard on real ordinary photos (scikit-image's samples) and generated pages."""

import pytest
from PIL import Image
from skimage import data as samples

from aiorch.medical.guard import refusal_reason
from aiorch.medical.synth import document_page, lesion_photo, screenshot, xray


@pytest.mark.parametrize("seed", range(8))
def test_close_ups_of_skin_pass(seed):
    assert refusal_reason(lesion_photo(seed)) is None


@pytest.mark.parametrize(
    "image, words",
    [
        (Image.fromarray(samples.astronaut()), "sharp edges"),
        (Image.fromarray(samples.rocket()), "colours skin does not have"),
        (Image.fromarray(samples.camera()).convert("RGB"), "grayscale"),
        (Image.fromarray(samples.motorcycle_left() if hasattr(samples, "motorcycle_left")
                         else samples.stereo_motorcycle()[0]), "sharp edges"),
        (document_page(1), "grayscale"),
        (screenshot(1), "screenshot"),
        (xray(1).convert("RGB"), "x-ray"),
    ],
    ids=["portrait", "rocket", "camera", "street", "document", "screenshot", "x-ray"],
)
def test_other_pictures_are_refused_with_what_they_look_like(image, words):
    reason = refusal_reason(image)
    assert reason is not None and words in reason
