"""The shipped calibration (`calibration.npz` beside this module, made by `python -m
aiorch.medical.calibrate` from real photos): what real dermoscopy looks like to the model, how
far from it a photo may be, and the class priors to take out of its probabilities.

Out-of-scope score: the Mahalanobis distance (Lee et al., 2018) of the photo's 264-number
embedding to the nearest HAM10000 class mean, with one shared, shrunk covariance. Appearance
score: the Mahalanobis distance of a few colour and texture numbers (guard.appearance) to their
mean on real dermoscopy, over the largest such distance among dev dermoscopy photos.
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
    appearance_mean: np.ndarray | None = None
    """(3,) mean of guard.appearance (fine texture, redness, saturation) on real dermoscopy."""
    appearance_precision: np.ndarray | None = None
    """(3, 3) inverse of its covariance (slightly shrunk towards the diagonal)."""
    appearance_warn: float = 1.0
    """The largest distance of a dev dermoscopy photo, each left out of the statistics it is measured
    with: the appearance score is the distance over this, so 1.0 is the edge of real dermoscopy."""
    appearance_refuse: float = float("inf")
    """Scores above this are refused."""

    def appearance_score(self, values: np.ndarray) -> float | None:
        if self.appearance_mean is None or self.appearance_precision is None:
            return None
        centred = values - self.appearance_mean
        return float(np.sqrt(centred @ self.appearance_precision @ centred)) / self.appearance_warn

    def finer_than_dermoscopy(self, values: np.ndarray) -> bool:
        """Fine texture (guard.APPEARANCE[0]) more than one standard deviation above dermoscopy's mean."""
        spread = float(np.sqrt(np.linalg.inv(self.appearance_precision)[0, 0]))
        return bool(values[0] > self.appearance_mean[0] + spread)

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
                            limit_values=np.array(list(self.limits.values()), dtype=np.float64),
                            **({} if self.appearance_mean is None else {
                                "appearance_mean": self.appearance_mean, "appearance_precision": self.appearance_precision,
                                "appearance_warn": self.appearance_warn, "appearance_refuse": self.appearance_refuse}))


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
                                                                   strict=True)},
                           **({"appearance_mean": saved["appearance_mean"],
                               "appearance_precision": saved["appearance_precision"],
                               "appearance_warn": float(saved["appearance_warn"]),
                               "appearance_refuse": float(saved["appearance_refuse"])}
                              if "appearance_mean" in saved else {}))
