"""The out-of-scope guard: cheap checks before the network, the calibrated distance after it, and
the "no distinct lesion" warning; on real photos where the shared folder has them."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from skimage import data as samples

from aiorch.contracts import PatientInfo
from aiorch.medical import calibration
from aiorch.medical.classify import classify_photo
from aiorch.medical.guard import appearance, decide, measure, precheck
from aiorch.medical.models import weights_digest
from aiorch.medical.references import by_split, dermoscopy
from aiorch.medical.synth import document_page, jpeg, lesion_photo, plain_skin, screenshot, xray

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def classify(model, image: Image.Image):
    return classify_photo(model, jpeg(image, 95), "photo.jpg", PatientInfo(), explain=False, max_pixels=40_000_000,
                          save_heatmap=lambda name, data: None)


@pytest.mark.parametrize(
    "image, words",
    [
        (Image.fromarray(samples.camera()).convert("RGB"), "grayscale"),
        (document_page(1), "grayscale"),
        (screenshot(1), "screenshot"),
        (xray(1).convert("RGB"), "x-ray"),
    ],
    ids=["camera", "document", "screenshot", "x-ray"],
)
def test_cheap_checks_refuse_what_is_plainly_not_skin_and_say_what_to_do(image, words):
    reason = precheck(image)
    assert reason is not None and words in reason and "close-up colour photo" in reason


@pytest.mark.parametrize("seed", range(4))
def test_cheap_checks_pass_lesion_close_ups_with_hairs_and_dark_corners(seed):
    photo = lesion_photo(seed)
    draw = ImageDraw.Draw(photo)
    for index in range(25):
        draw.line([(index * 18, 0), (index * 18 + 60, 450)], fill=(30, 22, 18), width=3)
    assert precheck(photo) is None


def _fake(warn: float, refuse: float) -> calibration.Calibration:
    return calibration.Calibration(means=np.zeros((7, 3)), precision=np.eye(3), warn=warn, refuse=refuse,
                                   log_prior=np.zeros(7), prior_power=0.0, views=1, weights="",
                                   limits={"edge_density": (0.01, 0.015), "saturation": (0.54, 0.65),
                                           "colourfulness": (60, 78), "foreign_fraction": (0.3, 0.42)})


def test_the_distance_decides_accept_warn_or_refuse():
    cal = _fake(2.0, 4.0)
    assert cal.distance(np.array([0.0, 3.0, 4.0])) == pytest.approx(5.0)
    photo = lesion_photo(1)
    assert decide(photo, 1.5, cal).refusal is None and decide(photo, 1.5, cal).warnings == ()
    warned = decide(photo, 3.0, cal)
    assert warned.refusal is None and "unusual photo" in warned.warnings[0]
    refused = decide(photo, 5.0, cal).refusal
    assert "does not look like a skin-lesion close-up" in refused and "close-up colour photo" in refused


def test_prior_rebalancing_favours_rare_classes_by_the_chosen_power():
    cal = _fake(1, 2)
    log_prior = np.log(np.array([0.5, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05]))
    probabilities = np.array([0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert calibration.Calibration(**{**cal.__dict__, "log_prior": log_prior}).rebalance(probabilities) == \
        pytest.approx(probabilities)  # power 0: unchanged
    full = calibration.Calibration(**{**cal.__dict__, "log_prior": log_prior, "prior_power": 1.0})
    rebalanced = full.rebalance(probabilities)
    assert rebalanced.sum() == pytest.approx(1) and rebalanced.argmax() in (5, 6)


def test_the_shipped_calibration_belongs_to_the_model(model, model_folder):
    shipped = calibration.load()
    assert shipped is not None, "calibration.npz is missing: python -m aiorch.medical.calibrate"
    assert shipped.weights == weights_digest(model_folder), "weights changed: rerun python -m aiorch.medical.calibrate"
    assert model.calibration is not None and shipped.warn < shipped.refuse and shipped.views in (1, 2, 4)


def test_colour_and_texture_together_decide_accept_warn_or_refuse():
    photo = lesion_photo(1)
    looks = appearance(measure(photo))

    def at(offset: np.ndarray) -> calibration.Calibration:  # the photo `offset` away from real dermoscopy's mean
        return calibration.Calibration(**{**_fake(2.0, 4.0).__dict__, "appearance_mean": looks - offset,
                                          "appearance_precision": np.eye(3), "appearance_warn": 1.0,
                                          "appearance_refuse": 1.5})

    assert decide(photo, 1.0, at(np.zeros(3))).warnings == ()
    warned = decide(photo, 1.0, at(np.array([0, 1.2, 0])))
    assert warned.refusal is None and "colour and texture together" in warned.warnings[0]
    # Far off in colour alone (smooth skin of a tone dermoscopy photos lack): a warning, never a refusal.
    smooth = decide(photo, 1.0, at(np.array([-0.5, 3.0, 0])))
    assert smooth.refusal is None and "colour and texture together" in smooth.warnings[0]
    refused = decide(photo, 1.0, at(np.array([1.6, 0, 0]))).refusal
    assert "unlike skin under a dermatoscope" in refused and "close-up colour photo" in refused


def test_a_close_up_of_fur_is_refused_by_its_colour_and_texture(model):
    # scikit-image's orange cat passed every other check (skin-coloured, smooth at the network's scale).
    cat = Image.fromarray(samples.chelsea())
    for picture in (cat, cat.crop((0, 0, cat.width // 2, cat.height // 2))):
        result = classify(model, picture)
        assert result.status == "refused" and "unlike skin under a dermatoscope" in result.refusal, result


def test_no_held_out_real_dermoscopy_photo_is_beyond_the_colour_and_texture_limits():
    photos = list(by_split(dermoscopy(SHARED), "held-out"))
    if not photos:
        pytest.skip(f"no dermoscopy photos in {SHARED}")
    shipped = calibration.load()
    for photo in photos:
        measured = measure(photo.image())
        assert shipped.appearance_score(appearance(measured)) <= shipped.appearance_refuse, photo.name
        assert all(measured[name] <= refuse for name, (_, refuse) in shipped.limits.items()), photo.name


@pytest.mark.parametrize("name", ["rocket", "astronaut", "coffee"])
def test_ordinary_photos_are_refused(model, name):
    result = classify(model, Image.fromarray(getattr(samples, name)()))
    assert result.status == "refused" and "not a skin-lesion photo" in result.refusal


def test_plain_skin_gets_a_warning_or_a_refusal_every_time(model):
    # Not yet for tattoos: dark ink on skin reads as a lesion (docs/medical.md, limits).
    for seed in range(3):
        result = classify(model, plain_skin(seed))
        assert result.status == "refused" or any(
            "no distinct lesion" in warning or "unusual photo" in warning for warning in result.warnings), result


def test_real_dermoscopy_photos_are_accepted(model):
    photos = sorted((SHARED / "ham10000-sample").glob("*.jpg"))[1::4]
    if not photos:
        pytest.skip(f"no HAM10000 sample photos in {SHARED}")
    for path in photos:
        result = classify_photo(model, path.read_bytes(), path.name, PatientInfo(), explain=False,
                                max_pixels=40_000_000, save_heatmap=lambda name, data: None)
        assert result.status == "classified", (path.name, result.refusal)
