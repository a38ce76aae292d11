"""Wires step requests to the classifier: photos in, probabilities and heatmaps out."""

import torch

from aiorch.contracts import MedicalOutput, PatientInfo, StepRequested
from aiorch.runtime.agent import AgentService, StepContext, StepFailure, StepOutcome
from aiorch.runtime.logs import get_logger

from .agentspec import SPEC
from .classify import DISCLAIMER, classify_photo, summary
from .config import MedicalSettings
from .errors import ImageProblem
from .models import load_model
from .patient import read_patient

log = get_logger(__name__)


class MedicalService(AgentService):
    name = "medical"
    spec = SPEC
    settings_class = MedicalSettings
    settings: MedicalSettings

    def setup(self) -> None:
        torch.set_num_threads(self.settings.torch_threads)
        self.model = load_model(self.settings.medical_model)
        log.info("model loaded", model=self.model.name, folder=str(self.settings.medical_model))

    def handle(self, request: StepRequested, ctx: StepContext) -> StepOutcome:
        photos = [ref for ref in request.files if ref.media_type.startswith("image/")]
        others = [ref.name for ref in request.files if not ref.media_type.startswith("image/")]
        if not photos:
            hint = f" ({', '.join(others)} {'is' if len(others) == 1 else 'are'} not an image)" if others else ""
            raise StepFailure("no_image", f"no photo to classify{hint}: attach a JPEG, PNG, WebP or HEIC photo")
        if len(photos) > self.settings.max_images:
            raise StepFailure("too_many_images", f"{len(photos)} photos; at most {self.settings.max_images} per step")
        try:
            patient = read_patient(request.params, request.instruction)
        except ImageProblem as problem:
            raise StepFailure(problem.code, problem.message) from None
        results = []
        for index, ref in enumerate(photos):
            ctx.progress(index / len(photos), f"classifying {ref.name}")
            results.append(classify_photo(
                self.model, ctx.read_file(ref), ref.name, patient, explain=self.settings.heatmaps,
                max_pixels=self.settings.max_image_pixels,
                save_heatmap=lambda name, data: ctx.save_artifact(name, data, "image/png"),
            ))
        if all(result.status == "refused" for result in results):
            reasons = "; ".join(f"{result.file}: {result.refusal}" for result in results)
            raise StepFailure("not_classified", f"no photo could be classified — {reasons}")
        output = MedicalOutput(model=self.model.name, patient=patient if self.model.uses_metadata else PatientInfo(),
                               images=results, disclaimer=DISCLAIMER)
        return StepOutcome(output=output, summary=summary(results, output.patient, self.model.uses_metadata))
