"""Grad-CAM on the last Xception activation: where the photo pushed the top class."""

import io

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .xception import SkinLesionNet

# A perceptual blue -> green -> yellow -> red ramp (a short stand-in for a matplotlib colormap).
_STOPS = np.array([[48, 18, 59], [40, 120, 240], [30, 200, 150], [160, 230, 50], [250, 180, 30], [200, 30, 10]],
                  dtype=np.float32)


def _colormap(heat: np.ndarray) -> np.ndarray:
    position = heat * (len(_STOPS) - 1)
    low = np.floor(position).astype(int).clip(0, len(_STOPS) - 2)
    weight = (position - low)[..., None]
    return _STOPS[low] * (1 - weight) + _STOPS[low + 1] * weight


def classify_with_cam(net: SkinLesionNet, image: torch.Tensor, metadata: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities (7,) and a 0-1 heatmap (254, 254) for the most probable class of one image."""
    with torch.enable_grad():
        features = net.features(image).detach().requires_grad_(True)
        logits = net.head(features, metadata)
        top = int(logits[0].argmax())
        (gradient,) = torch.autograd.grad(logits[0, top], features)
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * features.detach()).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=image.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    peak = float(cam.max())
    heat = (cam / peak).numpy() if peak > 0 else np.zeros(cam.shape, dtype=np.float32)
    return torch.softmax(logits.detach(), dim=1)[0].numpy(), heat


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
