"""Medical agent on real dermoscopy photos the model never saw (ISIC 2018 Task 3 test partition,
`../shared/data/isic2018-dev`, 20 per class), through the service's own path (`classify_photo`,
heatmap included, one thread): share accepted by the guard, balanced accuracy over the 7 classes
with refusals counted as misses, per-class recall and the confusion matrix (stderr). The "dev"
half (alternate photos per class in file-name order) is what the calibration was fitted on; the
"held-out" half was not looked at. Also the guard on held-out real non-lesion photos.
"""

import sys
import time

from evals.common import REPO, EvalRow, shared_data

AGENT = "medical"
DATASET = "ISIC 2018 test dermoscopy"


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def evaluate(args) -> list[EvalRow]:
    from aiorch.medical.references import CLASSES, by_split, dermoscopy, non_lesion

    photos = [photo for photo in dermoscopy(shared_data()) if photo.label]
    if not photos:
        _log(f"no ISIC photos under {shared_data()}: skipped")
        return [EvalRow(AGENT, DATASET, 0, "skipped (no data)", 0.0)]
    import torch  # only now: the model is slow to import and load

    from aiorch.contracts import PatientInfo
    from aiorch.medical.classify import classify_photo
    from aiorch.medical.models import load_model
    torch.set_num_threads(1)  # as the service runs (torch_threads=1)
    model = load_model(REPO / ".data" / "models" / "sklesion")
    rows = []
    for split in ("dev", "held-out"):
        chosen = [photo for photo in by_split(photos, split)]
        if getattr(args, "quick", False):
            chosen = [photo for code in CLASSES for photo in [p for p in chosen if p.label == code][:2]]
        started = time.perf_counter()
        confusion = {code: {} for code in CLASSES}
        accepted = 0
        for photo in chosen:
            result = classify_photo(model, photo.data(), photo.name, PatientInfo(), explain=True,
                                    max_pixels=40_000_000, save_heatmap=lambda name, data: None)
            answer = result.top[0].code if result.status == "classified" else "refused"
            accepted += result.status == "classified"
            confusion[photo.label][answer] = confusion[photo.label].get(answer, 0) + 1
            if result.status == "refused":
                _log(f"  refused {photo.name} ({photo.label}): {result.refusal}")
        seconds = time.perf_counter() - started
        recall = {code: confusion[code].get(code, 0) / max(sum(confusion[code].values()), 1) for code in CLASSES}
        balanced = sum(recall.values()) / len(CLASSES)
        _log(f"{split}: {len(chosen)} photos, {seconds / max(len(chosen), 1) * 1000:.0f} ms each")
        _log("  recall " + ", ".join(f"{code} {value:.2f}" for code, value in recall.items()))
        _log("  confusion (rows: truth; columns: answer)\n" + _matrix(confusion, CLASSES + ["refused"]))
        rows.append(EvalRow(AGENT, DATASET, len(chosen),
                            f"balanced acc {balanced:.2f} (accepted {accepted}/{len(chosen)})", seconds, split,
                            ">= 0.70, accepted >= 99%",
                            "recall " + " ".join(f"{code} {value:.2f}" for code, value in recall.items())))
    if not getattr(args, "quick", False):
        rows.append(_guard_row(model, list(by_split(non_lesion(), "held-out"))))
    return rows


def _guard_row(model, others) -> EvalRow:
    from aiorch.contracts import PatientInfo
    from aiorch.medical.classify import classify_photo
    from aiorch.medical.synth import jpeg

    started = time.perf_counter()
    refused = 0
    by_category: dict[str, list[int]] = {}
    for photo in others:
        result = classify_photo(model, jpeg(photo.image(), 95), photo.name, PatientInfo(), explain=False,
                                max_pixels=40_000_000, save_heatmap=lambda name, data: None)
        refused += result.status == "refused"
        counts = by_category.setdefault(photo.category, [0, 0])
        counts[0] += result.status == "refused"
        counts[1] += 1
        if result.status != "refused":
            _log(f"  accepted non-lesion {photo.name}: {', '.join(result.warnings) or 'no warning'}")
    _log("  non-lesion refused by kind: " + ", ".join(f"{kind} {done}/{total}" for kind, (done, total) in
                                                      by_category.items()))
    return EvalRow(AGENT, "real and generated non-lesion photos (guard)", len(others),
                   f"refused {refused}/{len(others)} ({refused / max(len(others), 1):.0%})",
                   time.perf_counter() - started, "held-out", ">= 95%")


def _matrix(confusion: dict, columns: list[str]) -> str:
    lines = ["        " + " ".join(f"{column[:7]:>7}" for column in columns)]
    lines += [f"  {row:>5} " + " ".join(f"{confusion[row].get(column, 0):>7}" for column in columns)
              for row in confusion]
    return "\n".join(lines)
