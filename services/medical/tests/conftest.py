from pathlib import Path

import pytest

from aiorch.medical.models import SkLesionModel

MODEL_FOLDER = Path(__file__).resolve().parents[3] / ".data" / "models" / "sklesion"


@pytest.fixture(scope="session")
def model_folder() -> Path:
    if not (MODEL_FOLDER / "model.safetensors").is_file():
        pytest.fail(f"{MODEL_FOLDER} is missing: `make setup` converts sklesion into it")
    return MODEL_FOLDER


@pytest.fixture(scope="session")
def model(model_folder) -> SkLesionModel:
    return SkLesionModel(model_folder)
