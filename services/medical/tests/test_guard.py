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


def test_hair_over_a_lesion_is_not_mistaken_for_a_scene():
    from PIL import ImageDraw

    photo = lesion_photo(3)
    draw = ImageDraw.Draw(photo)
    for index in range(25):
        draw.line([(index * 18, 0), (index * 18 + 60, 450)], fill=(30, 22, 18), width=3)
    assert refusal_reason(photo) is None
