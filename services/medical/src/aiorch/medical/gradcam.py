"""Grad-CAM on the last Xception activation: where the photo pushed the top class."""

import io

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


# A perceptual blue -> green -> yellow -> red ramp (a short stand-in for a matplotlib colormap).
_STOPS = np.array([[48, 18, 59], [40, 120, 240], [30, 200, 150], [160, 230, 50], [250, 180, 30], [200, 30, 10]],
                  dtype=np.float32)


def _colormap(heat: np.ndarray) -> np.ndarray:
    position = heat * (len(_STOPS) - 1)
    low = np.floor(position).astype(int).clip(0, len(_STOPS) - 2)
    weight = (position - low)[..., None]
    return _STOPS[low] * (1 - weight) + _STOPS[low + 1] * weight


def cam_from(features: torch.Tensor, gradient: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """Grad-CAM from one view's last feature map (1, 2048, h, w) and the top logit's gradient
    there: channels weighted by their mean gradient, positive part, 0-1 at `size`."""
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * features).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=size, mode="bilinear", align_corners=False)[0, 0]
    peak = float(cam.max())
    return (cam / peak).numpy() if peak > 0 else np.zeros(cam.shape, dtype=np.float32)


def overlay_png(photo: Image.Image, heat: np.ndarray, opacity: float = 0.45) -> bytes:
    """The heatmap blended over the photo, at the photo's size (at most 768 px), as PNG."""
    shown = photo.copy()
    shown.thumbnail((768, 768))
    heat_image = Image.fromarray((heat * 255).astype(np.uint8)).resize(shown.size, Image.Resampling.BILINEAR)
    heat = np.asarray(heat_image, dtype=np.float32) / 255
    alpha = (opacity * np.clip(heat * 1.5, 0.1, 1.0))[..., None]  # cold areas keep the photo visible
    blended = np.asarray(shown, dtype=np.float32) * (1 - alpha) + _colormap(heat) * alpha
    buffer = io.BytesIO()
    Image.fromarray(blended.clip(0, 255).astype(np.uint8)).save(buffer, "PNG", optimize=False)
    return buffer.getvalue()
