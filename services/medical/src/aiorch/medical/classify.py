"""One photo in, one `LesionResult` out: decode, guard, classify, explain. No transport here."""

from collections.abc import Callable
from pathlib import PurePosixPath

from aiorch.contracts import ClassProbability, FileRef, LesionResult, PatientInfo

from .errors import ImageProblem
from .gradcam import overlay_png
from .guard import decide, precheck
from .images import load_rgb, quality_warnings
from .models import SkLesionModel, TransformersModel
from .patient import used_fields

DISCLAIMER = ("This is not a diagnosis. It is the output of a research model trained on dermoscopy images "
              "(HAM10000); it can be wrong. Show any changing, bleeding or worrying spot to a doctor.")


def classify_photo(model: SkLesionModel | TransformersModel, data: bytes, name: str, patient: PatientInfo,
                   *, explain: bool, max_pixels: int,
                   save_heatmap: Callable[[str, bytes], FileRef]) -> LesionResult:
    try:
        photo, notes = load_rgb(data, name, max_pixels)
    except ImageProblem as problem:
        return LesionResult(file=name, status="refused", refusal=problem.message)
    reason = precheck(photo)
    if reason is None:
        explain = explain and model.explains
        prediction = model.predict(photo, patient if model.uses_metadata else PatientInfo(), explain)
        verdict = decide(photo, prediction.distance, getattr(model, "calibration", None))
        reason = verdict.refusal
    if reason is not None:
        return LesionResult(file=name, status="refused", refusal=f"not a skin-lesion photo: {reason}",
                            warnings=notes)
    probabilities = [
        ClassProbability(code=cls.code, name=cls.name, severity=cls.severity, probability=round(float(p), 6))
        for cls, p in zip(model.classes, prediction.probabilities)
    ]
    ranked = sorted(probabilities, key=lambda item: item.probability, reverse=True)
    malignant = leaning = None
    if all(item.severity != "unknown" for item in probabilities):
        malignant = round(sum(item.probability for item in probabilities if item.severity == "malignant"), 6)
        leaning = "malignant" if malignant >= 0.5 else "benign"
    heatmap = None
    if prediction.heatmap is not None:
        heatmap = save_heatmap(f"{PurePosixPath(name).stem}.gradcam.png", overlay_png(photo, prediction.heatmap))
    return LesionResult(file=name, status="classified", top=ranked[:3], probabilities=probabilities,
                        malignant_probability=malignant, leaning=leaning or "unknown", heatmap=heatmap,
                        warnings=notes + list(verdict.warnings) + quality_warnings(photo))


def summary(results: list[LesionResult], patient: PatientInfo, uses_metadata: bool = True) -> str:
    lines = []
    for result in results:
        if result.status == "refused":
            lines.append(f"- **{result.file}**: refused — {result.refusal}")
            continue
        top = ", ".join(f"{item.name} {item.probability:.0%}" for item in result.top)
        lines.append(f"- **{result.file}**: {top}"
                     + (f" (malignant classes together {result.malignant_probability:.0%})"
                        if result.malignant_probability is not None else ""))
        lines += [f"  - ⚠ {warning}" for warning in result.warnings]
    given = ", ".join(f"{key} {value:g}" if isinstance(value, float) else f"{key} {value}"
                      for key, value in patient.model_dump(exclude={"source"}).items() if value is not None)
    head = f"**Skin-lesion classification** ({given})" if given else "**Skin-lesion classification**"
    return "\n".join([head, *lines, f"_{used_fields(patient, uses_metadata)}._", "", f"_{DISCLAIMER}_"])


