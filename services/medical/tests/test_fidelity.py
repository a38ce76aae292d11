"""The converted PyTorch network gives what sklesion's own Keras model gives (Keras 3 on its
torch backend, test-only), on varied photos, with and without metadata."""

import os

os.environ["KERAS_BACKEND"] = "torch"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from skimage import data as photos  # noqa: E402

from aiorch.contracts import PatientInfo  # noqa: E402
from aiorch.medical.convert import fetch_keras_model  # noqa: E402
from aiorch.medical.models import SkLesionModel  # noqa: E402
from aiorch.medical.synth import lesion_photo  # noqa: E402


@pytest.fixture(scope="module")
def keras_model(tmp_path_factory):
    return keras.saving.load_model(fetch_keras_model(tmp_path_factory.mktemp("sklesion")), compile=False)


def _inputs(model: SkLesionModel):
    from PIL import Image

    pictures = [lesion_photo(seed) for seed in range(3)] + [Image.fromarray(photos.astronaut()),
                                                            Image.fromarray(photos.coffee())]
    rng = np.random.default_rng(7)
    pictures.append(Image.fromarray(rng.integers(0, 256, (300, 200, 3), dtype=np.uint8)))
    patients = [PatientInfo(), PatientInfo(age=54, sex="male", location="trunk"),
                PatientInfo(age=80, sex="female", location="head-or-neck"), PatientInfo(sex="female"),
                PatientInfo(age=15, location="leg-or-genital"), PatientInfo(age=33, sex="unknown", location="arm")]
    images = torch.cat([model.pixels(picture) for picture in pictures])
    metadata = torch.tensor([model.encoding.vector(patient) for patient in patients], dtype=torch.float32)
    return images, metadata


def test_probabilities_match_keras_within_1e_5(model, keras_model):
    images, metadata = _inputs(model)
    with torch.inference_mode():
        ours = model.net(images, metadata).numpy()
    reference = np.asarray(keras_model.predict([images.permute(0, 2, 3, 1).numpy(), metadata.numpy()], verbose=0))
    assert np.abs(ours - reference).max() < 1e-5
    assert (ours.argmax(axis=1) == reference.argmax(axis=1)).all()
    # The metadata matters: the same photo with other patient data gives other probabilities.
    assert np.abs(ours[0] - model.net(images[:1], metadata[1:2]).detach().numpy()[0]).max() > 1e-3


def test_resizing_matches_keras_bilinear_without_antialiasing(model):
    picture = lesion_photo(11, size=600)
    ours = model.pixels(picture)[0].permute(1, 2, 0).numpy()
    reference = keras.ops.convert_to_numpy(keras.ops.image.resize(
        np.asarray(picture, dtype=np.float32)[None], (254, 254), interpolation="bilinear", antialias=False))[0]
    assert np.abs(ours - reference).max() < 1e-3


def test_metadata_vector_follows_the_training_encoding(model):
    vector = model.encoding.vector(PatientInfo(age=45, sex="female", location="arm"))
    assert vector == [1, 0, 0, 1, 0, 0, 0, 0, 0.5, 0]
    missing = model.encoding.vector(PatientInfo())
    assert missing[:8] == [0, 0, 1, 0, 0, 0, 0, 1] and missing[9] == 1
    assert missing[8] == pytest.approx(51.9018 / 90, abs=1e-4)
