"""The shipped calibration (`calibration.npz` beside this module, made by `python -m
aiorch.medical.calibrate` from real photos): what real dermoscopy looks like to the model, how
far from it a photo may be, and the class priors to take out of its probabilities.

Out-of-scope score: the Mahalanobis distance (Lee et al., 2018) of the photo's 264-number
embedding to the nearest HAM10000 class mean, with one shared, shrunk covariance.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE = Path(__file__).with_name("calibration.npz")


@dataclass(frozen=True)
class Calibration:
    means: np.ndarray
    """(7, 264) class means of the embedding on real dermoscopy photos."""
    precision: np.ndarray
    """(264, 264) inverse of the shared, shrunk covariance."""
    warn: float
    """Distances above this are unusual for dermoscopy: classified, with a warning."""
    refuse: float
    """Distances above this are not dermoscopy: refused."""
    log_prior: np.ndarray
    """(7,) log of the training class frequencies (HAM10000)."""
    prior_power: float
    """How much of the training prior to divide out (0: none, 1: all, i.e. balanced classes)."""
    views: int
    """Test-time views averaged: 1 (the photo), 2 (+ mirrored), 4 (+ flipped, + both)."""
    weights: str
    """sha256 of the model weights the statistics were computed with."""
    limits: dict[str, tuple[float, float]]
    """Colour and texture properties (guard.measure): (warn above, refuse above), from their range on
    real dermoscopy."""

    def distance(self, embedding: np.ndarray) -> float:
        centred = embedding[None, :] - self.means
        return float(np.sqrt(np.einsum("ci,ij,cj->c", centred, self.precision, centred).min()))

    def rebalance(self, probabilities: np.ndarray) -> np.ndarray:
        adjusted = np.log(np.maximum(probabilities, 1e-12)) - self.prior_power * self.log_prior
        adjusted = np.exp(adjusted - adjusted.max())
        return adjusted / adjusted.sum()

    def save(self, path: Path = FILE) -> None:
        np.savez_compressed(path, means=self.means.astype(np.float32), precision=self.precision.astype(np.float32),
                            warn=self.warn, refuse=self.refuse, log_prior=self.log_prior, prior_power=self.prior_power,
                            views=self.views, weights=self.weights, limit_names=list(self.limits),
                            limit_values=np.array(list(self.limits.values()), dtype=np.float64))


def load(path: Path = FILE) -> Calibration | None:
    if not path.is_file():
        return None
    with np.load(path) as saved:
        return Calibration(means=saved["means"].astype(np.float64), precision=saved["precision"].astype(np.float64),
                           warn=float(saved["warn"]), refuse=float(saved["refuse"]), log_prior=saved["log_prior"],
                           prior_power=float(saved["prior_power"]), views=int(saved["views"]),
                           weights=str(saved["weights"]),
                           limits={str(name): (float(warn), float(refuse))
                                   for name, (warn, refuse) in zip(saved["limit_names"], saved["limit_values"],
                                                                   strict=True)})
