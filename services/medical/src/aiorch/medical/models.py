"""The classifiers behind the agent: sklesion converted to PyTorch (default), or any
`transformers` image-classification checkpoint in a local folder."""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file

from aiorch.contracts import PatientInfo

from . import calibration
from .convert import LABELS_FILE, WEIGHTS_FILE
from .gradcam import cam_from
from .patient import Encoding
from .xception import IMAGE_SIZE, SkinLesionNet


@dataclass(frozen=True)
class LesionClass:
    code: str
    name: str
    severity: str  # benign | malignant | unknown


@dataclass
class Prediction:
    probabilities: np.ndarray
    heatmap: np.ndarray | None = None
    distance: float | None = None
    """How far the photo is from real dermoscopy (see calibration.py); None: not measured."""


class SkLesionModel:
    """Xception + metadata MLP; photo resized bilinearly (no antialiasing) to 254x254, 0-255."""

    uses_metadata = True
    explains = True

    def __init__(self, folder: Path, calibrated: calibration.Calibration | None | bool = True) -> None:
        labels = json.loads((folder / LABELS_FILE).read_text())
        self.name = labels["source"]
        self.classes = [LesionClass(c["code"], c["name"], c["severity"]) for c in labels["classes"]]
        self.encoding = Encoding(labels["sex"], labels["locations"], labels["age_mean"], labels["age_max"])
        self.net = SkinLesionNet()
        self.net.load_state_dict(load_file(folder / WEIGHTS_FILE), strict=False)
        # Channels-last convolutions are about a fifth faster on the CPU, same numbers.
        self.net = self.net.eval().to(memory_format=torch.channels_last)
        # The statistics belong to these weights: other weights get the plain model, no distance.
        if calibrated is True:
            calibrated = calibration.load()
            if calibrated is not None and calibrated.weights != weights_digest(folder):
                calibrated = None
        self.calibration = calibrated or None

    @staticmethod
    def pixels(photo: Image.Image) -> torch.Tensor:
        array = torch.from_numpy(np.asarray(photo, dtype=np.float32).copy()).permute(2, 0, 1)[None]
        resized = F.interpolate(array, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", align_corners=False,
                                antialias=False)
        return resized.contiguous(memory_format=torch.channels_last)

    def forward(self, photo: Image.Image, patient: PatientInfo, views: int) -> tuple[torch.Tensor, torch.Tensor,
                                                                                       torch.Tensor, torch.Tensor]:
        """Feature maps, logits and embeddings of the photo's test-time views (the photo first), and
        the metadata; the feature maps are leaves that Grad-CAM can differentiate against."""
        image = self.pixels(photo)
        batch = torch.cat(views_of(image, views)).contiguous(memory_format=torch.channels_last)
        metadata = torch.tensor([self.encoding.vector(patient)], dtype=torch.float32).expand(len(batch), -1)
        with torch.no_grad():
            features = self.net.features(batch)
        features = features.detach().requires_grad_(True)
        with torch.enable_grad():
            logits, embeddings = self.net.head_parts(features, metadata)
        return features, logits, embeddings, metadata

    def predict(self, photo: Image.Image, patient: PatientInfo, explain: bool) -> Prediction:
        calibrated = self.calibration
        features, logits, embeddings, _ = self.forward(photo, patient, calibrated.views if calibrated else 1)
        probabilities = torch.softmax(logits.detach(), dim=1).mean(dim=0).numpy().astype(np.float64)
        distance = None
        if calibrated is not None:
            probabilities = calibrated.rebalance(probabilities)
            distance = calibrated.distance(embeddings.detach().mean(dim=0).numpy().astype(np.float64))
        heatmap = None
        if explain:  # Grad-CAM of the answer's top class, on the photo as it is (the first view)
            (gradient,) = torch.autograd.grad(logits[0, int(probabilities.argmax())], features)
            heatmap = cam_from(features.detach()[:1], gradient[:1], (IMAGE_SIZE, IMAGE_SIZE))
        return Prediction(probabilities, heatmap, distance)


def views_of(image: torch.Tensor, count: int) -> list[torch.Tensor]:
    """The photo, mirrored, flipped, and both: a lesion has no up or left."""
    views = [image, image.flip(-1), image.flip(-2), image.flip(-1).flip(-2)]
    return views[:count]


def weights_digest(folder: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(folder / WEIGHTS_FILE, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class TransformersModel:
    """Any local AutoModelForImageClassification checkpoint; photo only, no metadata."""

    uses_metadata = False
    explains = False

    def __init__(self, folder: Path) -> None:
        from transformers import AutoImageProcessor, AutoModelForImageClassification

        self.name = f"transformers:{folder.name}"
        self.processor = AutoImageProcessor.from_pretrained(folder, local_files_only=True, use_fast=False)
        self.model = AutoModelForImageClassification.from_pretrained(folder, local_files_only=True).eval()
        id2label = self.model.config.id2label
        self.classes = []
        for index in range(len(id2label)):
            label = str(id2label[index])
            self.classes.append(LesionClass(label, label, _HAM_SEVERITY.get(label.lower(), "unknown")))

    def predict(self, photo: Image.Image, patient: PatientInfo, explain: bool) -> Prediction:
        inputs = self.processor(images=photo, return_tensors="pt")
        with torch.inference_mode():
            logits = self.model(**inputs).logits
        return Prediction(torch.softmax(logits, dim=-1)[0].numpy())


_HAM_SEVERITY = {"akiec": "malignant", "bcc": "malignant", "mel": "malignant", "bkl": "benign", "df": "benign",
                 "nv": "benign", "vasc": "benign"}


def load_model(folder: Path) -> SkLesionModel | TransformersModel:
    if (folder / WEIGHTS_FILE).is_file() and (folder / LABELS_FILE).is_file():
        return SkLesionModel(folder)
    if (folder / "config.json").is_file():
        return TransformersModel(folder)
    raise FileNotFoundError(
        f"no model in {folder}: run `make setup` (converts sklesion into it) or point MEDICAL_MODEL at a folder "
        f"with {WEIGHTS_FILE} + {LABELS_FILE}, or a transformers image-classification checkpoint"
    )
