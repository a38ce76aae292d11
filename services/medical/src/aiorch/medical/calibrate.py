"""Make `calibration.npz` (the guard's statistics and the class-prior correction) from real photos:

    .venv/bin/python -m aiorch.medical.calibrate [--data ../shared/data] [--views 2]

Reads only the "dev" half of every reference set (references.py): ISIC 2018 test and HAM10000
dermoscopy photos from the shared data folder, and real non-lesion photos that packages ship
(scikit-image, scikit-learn) with generated documents and screenshots. The held-out half is
left for `make eval` and `make bench`. Deterministic: the same data and weights give the same file.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from . import calibration
from .guard import appearance, measure, precheck
from .images import load_rgb
from .models import SkLesionModel, weights_digest
from .references import CLASSES, Photo, by_split, dermoscopy, non_lesion

# HAM10000's class counts (Tschandl et al., 2018), the prior the model learned.
HAM10000_COUNTS = {"akiec": 327, "bcc": 514, "bkl": 1099, "df": 115, "mel": 1113, "nv": 6705, "vasc": 142}
SHRINKAGE = 0.5
"""Share of the covariance replaced by its mean variance: 70 photos cannot estimate 264x264 numbers."""
WARN_MARGIN = 1.1
"""Warn above the farthest dev dermoscopy photo (left out of the statistics it is measured with) x this."""
REFUSE_MARGIN = 1.6
"""Refuse only well beyond it: a refused melanoma is the worst outcome; an odd photo gets a warning."""
LIMIT_MARGINS = {"edge_density": 1.5, "saturation": 1.2, "colourfulness": 1.3, "foreign_fraction": 1.4}
"""Colour and texture (guard.measure): warn above the largest value on dev dermoscopy, refuse above it x
this margin. The margins are what held-out dermoscopy needed (its maxima lie within) with room to spare."""
APPEARANCE_SHRINKAGE = 0.1
"""Share of the appearance covariance (3x3, from about 80 photos) replaced by its diagonal."""
APPEARANCE_REFUSE = 1.2
"""Refuse above the farthest dev dermoscopy photo's appearance distance (left out) x this; warn above it."""


def embed(model: SkLesionModel, photos: list[Photo], views: int, log=print,
          cache: dict | None = None) -> tuple[np.ndarray, np.ndarray, list]:
    """Raw probabilities (n, 7) and embeddings (n, 264), averaged over the views, of the photos
    that pass the cheap checks; and the list of those photos. `cache` (name -> arrays) spares
    recomputing when only the fitting changes."""
    probabilities, embeddings, kept = [], [], []
    started = time.perf_counter()
    for index, photo in enumerate(photos):
        key = f"{photo.name}|{views}"
        if cache is None or key not in cache:
            image = load_rgb(photo.data(), photo.name)[0] if photo.path else photo.image()
            if precheck(image) is not None:
                found = np.zeros(0)
            else:
                _, logits, embedding, _ = model.forward(image, patient_none(), views)
                found = np.concatenate([torch.softmax(logits.detach(), dim=1).mean(dim=0).numpy(),
                                        embedding.detach().mean(dim=0).numpy()])
            if cache is not None:
                cache[key] = found
        else:
            found = cache[key]
        if found.size == 0:
            continue
        probabilities.append(found[: len(CLASSES)])
        embeddings.append(found[len(CLASSES):])
        kept.append(photo)
        if index % 20 == 19:
            log(f"  {index + 1}/{len(photos)} photos, {time.perf_counter() - started:.0f} s")
    return np.array(probabilities, dtype=np.float64), np.array(embeddings, dtype=np.float64), kept


def patient_none():
    from aiorch.contracts import PatientInfo

    return PatientInfo()


def fit_gaussian(embeddings: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class means and the precision of one shared covariance, shrunk towards its mean variance."""
    means = np.stack([embeddings[labels == index].mean(axis=0) for index in range(len(CLASSES))])
    centred = embeddings - means[labels]
    covariance = centred.T @ centred / max(len(embeddings) - len(CLASSES), 1)
    shrunk = (1 - SHRINKAGE) * covariance + SHRINKAGE * np.trace(covariance) / len(covariance) * np.eye(len(covariance))
    return means, np.linalg.inv(shrunk)


def left_out_distances(embeddings: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each labelled photo's distance with statistics fitted without it: honest, not in-sample."""
    distances = []
    for index in range(len(embeddings)):
        keep = np.arange(len(embeddings)) != index
        means, precision = fit_gaussian(embeddings[keep], labels[keep])
        distances.append(_distance(embeddings[index], means, precision))
    return np.array(distances)


def _distance(embedding: np.ndarray, means: np.ndarray, precision: np.ndarray) -> float:
    centred = embedding[None, :] - means
    return float(np.sqrt(np.einsum("ci,ij,cj->c", centred, precision, centred).min()))


def balanced_accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean([(predicted[labels == index] == index).mean() for index in range(len(CLASSES))
                          if (labels == index).any()]))


def best_prior_power(probabilities: np.ndarray, labels: np.ndarray, log_prior: np.ndarray) -> float:
    """The share of the training prior to divide out that gives the best balanced accuracy on dev
    (ties: the smallest change)."""
    scores = {}
    for power in np.round(np.arange(0, 1.01, 0.1), 2):
        adjusted = np.log(np.maximum(probabilities, 1e-12)) - power * log_prior
        scores[float(power)] = balanced_accuracy(adjusted.argmax(axis=1), labels)
    best = max(scores.values())
    return min(power for power, score in scores.items() if score >= best - 1e-9)


def calibrate(model: SkLesionModel, folder: Path, data: Path, views: int, log=print,
              cache: dict | None = None) -> calibration.Calibration:
    derm = list(by_split(dermoscopy(data), "dev"))
    if not any(photo.label for photo in derm):
        raise SystemExit(f"no labelled dermoscopy photos under {data}: pass --data (../shared/data)")
    log(f"dermoscopy (dev): {len(derm)} photos")
    probabilities, embeddings, kept = embed(model, derm, views, log, cache)
    if len(kept) != len(derm):
        raise SystemExit(f"the cheap checks refuse {len(derm) - len(kept)} real dermoscopy photos: fix them first")
    labelled = np.array([photo.label is not None for photo in kept])
    labels = np.array([CLASSES.index(photo.label) for photo in kept if photo.label])
    means, precision = fit_gaussian(embeddings[labelled], labels)
    inside = np.concatenate([left_out_distances(embeddings[labelled], labels),
                             [_distance(e, means, precision) for e in embeddings[~labelled]]])
    others = list(by_split(non_lesion(), "dev"))
    log(f"non-lesion photos (dev): {len(others)}")
    _, other_embeddings, other_kept = embed(model, others, views, log, cache)
    outside = np.array([_distance(e, means, precision) for e in other_embeddings])
    warn = float(inside.max() * WARN_MARGIN)
    refuse = float(warn * REFUSE_MARGIN)
    log(f"distance: dermoscopy max {inside.max():.2f} (median {np.median(inside):.2f}), warn above {warn:.2f}, "
        f"refuse above {refuse:.2f}; non-lesion photos past the cheap checks min {outside.min():.2f} "
        f"median {np.median(outside):.2f}")
    measured = [measure(load_rgb(photo.data(), photo.name)[0]) for photo in derm]
    limits = {name: (max(m[name] for m in measured), max(m[name] for m in measured) * margin)
              for name, margin in LIMIT_MARGINS.items()}
    log("colour and texture limits (warn, refuse): "
        + ", ".join(f"{name} {warn:.3f}/{refuse:.3f}" for name, (warn, refuse) in limits.items()))
    looks = np.array([appearance(m) for m in measured])
    look_mean, look_precision, edge = fit_appearance(looks)
    log(f"appearance (fine texture, redness, saturation): dev dermoscopy max distance {edge:.2f} (left out), "
        f"refuse above {edge * APPEARANCE_REFUSE:.2f}")
    passed = [measure(photo.image()) for photo in other_kept]
    refused = len(others) - len(other_kept) + sum(
        distance > refuse or any(m[name] > limits[name][1] for name in limits)
        or (_mahalanobis(appearance(m), look_mean, look_precision) > edge * APPEARANCE_REFUSE
            and appearance(m)[0] > look_mean[0] + np.sqrt(np.linalg.inv(look_precision)[0, 0]))
        for m, distance in zip(passed, outside))
    log(f"dev non-lesion pictures refused: {refused}/{len(others)}")
    log_prior = np.log(np.array([HAM10000_COUNTS[code] for code in CLASSES], dtype=np.float64)
                       / sum(HAM10000_COUNTS.values()))
    power = best_prior_power(probabilities[labelled], labels, log_prior)
    log(f"prior power {power}: dev balanced accuracy {balanced_accuracy(probabilities[labelled].argmax(1), labels):.3f}"
        f" -> {balanced_accuracy((np.log(probabilities[labelled]) - power * log_prior).argmax(1), labels):.3f}")
    return calibration.Calibration(means=means, precision=precision, warn=warn, refuse=refuse, log_prior=log_prior,
                                   prior_power=power, views=views, weights=weights_digest(folder),
                                   limits=limits, appearance_mean=look_mean, appearance_precision=look_precision,
                                   appearance_warn=edge, appearance_refuse=APPEARANCE_REFUSE)


def fit_appearance(looks: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean and shrunk precision of the appearance numbers, and the largest left-out distance."""
    def fit(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        covariance = np.cov(rows.T)
        shrunk = (1 - APPEARANCE_SHRINKAGE) * covariance + APPEARANCE_SHRINKAGE * np.diag(np.diag(covariance))
        return rows.mean(axis=0), np.linalg.inv(shrunk)
    left_out = [_mahalanobis(looks[index], *fit(np.delete(looks, index, axis=0))) for index in range(len(looks))]
    return *fit(looks), float(max(left_out))


def _mahalanobis(values: np.ndarray, mean: np.ndarray, precision: np.ndarray) -> float:
    centred = values - mean
    return float(np.sqrt(centred @ precision @ centred))


def main(argv: list[str] | None = None) -> int:
    from .references import REPO, shared_data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=REPO / ".data" / "models" / "sklesion")
    parser.add_argument("--data", type=Path, default=None, help="the shared data folder (default ../shared/data)")
    parser.add_argument("--views", type=int, default=1, choices=[1, 2, 4], help="test-time views (latency!)")
    parser.add_argument("--out", type=Path, default=calibration.FILE)
    parser.add_argument("--cache", type=Path, help="an .npz to keep per-photo outputs in (for trying settings)")
    args = parser.parse_args(argv)
    cache = dict(np.load(args.cache)) if args.cache and args.cache.is_file() else ({} if args.cache else None)
    torch.set_num_threads(min(torch.get_num_threads(), 2))
    model = SkLesionModel(args.model, calibrated=False)
    made = calibrate(model, args.model, args.data or shared_data(), args.views,
                     log=lambda text: print(text, file=sys.stderr, flush=True), cache=cache)
    if args.cache:
        np.savez(args.cache, **cache)
    made.save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
