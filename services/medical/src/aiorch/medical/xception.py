"""The sklesion network in PyTorch: Xception on the photo, a small MLP on the metadata.

Module names follow the Keras layer names of `sklesion/model.keras`, so the converted
weights map one to one. Keras' conventions are kept where they change the numbers:
BatchNorm epsilon 1e-3, "same" padding that pads after on even-sized maps, and a
Normalization layer that expects pixels in 0-255.
"""

import torch
import torch.nn.functional as F
from torch import nn

BN_EPSILON = 1e-3
NORMALIZATION_EPSILON = 1e-7  # keras.backend.epsilon()
IMAGE_SIZE = 254
METADATA_SIZE = 10  # sex(3) + location(5) + age/90 + age_missing
CLASS_COUNT = 7


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPSILON)


class SeparableConv(nn.Module):
    """Keras SeparableConv2D, 3x3, stride 1, "same", no bias."""

    def __init__(self, inputs: int, outputs: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(inputs, inputs, 3, padding=1, groups=inputs, bias=False)
        self.pointwise = nn.Conv2d(inputs, outputs, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def max_pool_same(x: torch.Tensor) -> torch.Tensor:
    """Keras MaxPooling2D(3, strides=2, padding="same"): the odd pixel of padding goes after."""
    height, width = x.shape[-2:]
    pad_h = max((-(-height // 2) - 1) * 2 + 3 - height, 0)
    pad_w = max((-(-width // 2) - 1) * 2 + 3 - width, 0)
    x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2), value=float("-inf"))
    return F.max_pool2d(x, 3, 2)


class Normalization(nn.Module):
    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("variance", torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = torch.sqrt(self.variance).clamp_min(NORMALIZATION_EPSILON)
        return (x - self.mean[:, None, None]) / scale[:, None, None]


# (block, input channels, output channels) of the blocks with a strided 1x1 shortcut.
_ENTRY = [(2, 64, 128, "conv2d", "batch_normalization"), (3, 128, 256, "conv2d_1", "batch_normalization_1"),
          (4, 256, 728, "conv2d_2", "batch_normalization_2")]


class Xception(nn.Module):
    """keras.applications.Xception(include_top=False, pooling="avg"), input 0-255 normalised."""

    def __init__(self) -> None:
        super().__init__()
        self.block1_conv1 = nn.Conv2d(3, 32, 3, stride=2, bias=False)
        self.block1_conv1_bn = _bn(32)
        self.block1_conv2 = nn.Conv2d(32, 64, 3, bias=False)
        self.block1_conv2_bn = _bn(64)
        for block, inputs, outputs, shortcut, shortcut_bn in _ENTRY:
            self.add_module(shortcut, nn.Conv2d(inputs, outputs, 1, stride=2, bias=False))
            self.add_module(shortcut_bn, _bn(outputs))
            self._separable(block, 1, inputs, outputs)
            self._separable(block, 2, outputs, outputs)
        for block in range(5, 13):
            for index in (1, 2, 3):
                self._separable(block, index, 728, 728)
        self.conv2d_3 = nn.Conv2d(728, 1024, 1, stride=2, bias=False)
        self.batch_normalization_3 = _bn(1024)
        self._separable(13, 1, 728, 728)
        self._separable(13, 2, 728, 1024)
        self._separable(14, 1, 1024, 1536)
        self._separable(14, 2, 1536, 2048)

    def _separable(self, block: int, index: int, inputs: int, outputs: int) -> None:
        self.add_module(f"block{block}_sepconv{index}", SeparableConv(inputs, outputs))
        self.add_module(f"block{block}_sepconv{index}_bn", _bn(outputs))

    def _sep(self, x: torch.Tensor, block: int, index: int) -> torch.Tensor:
        conv = getattr(self, f"block{block}_sepconv{index}")
        return getattr(self, f"block{block}_sepconv{index}_bn")(conv(x))

    def feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """The last activation (2048 channels) before pooling: what Grad-CAM looks at."""
        x = F.relu(self.block1_conv1_bn(self.block1_conv1(x)))
        x = F.relu(self.block1_conv2_bn(self.block1_conv2(x)))
        for block, _, _, shortcut, shortcut_bn in _ENTRY:
            residual = getattr(self, shortcut_bn)(getattr(self, shortcut)(x))
            if block > 2:
                x = F.relu(x)
            x = self._sep(F.relu(self._sep(x, block, 1)), block, 2)
            x = max_pool_same(x) + residual
        for block in range(5, 13):
            residual = x
            for index in (1, 2, 3):
                x = self._sep(F.relu(x), block, index)
            x = x + residual
        residual = self.batch_normalization_3(self.conv2d_3(x))
        x = self._sep(F.relu(self._sep(F.relu(x), 13, 1)), 13, 2)
        x = max_pool_same(x) + residual
        x = F.relu(self._sep(x, 14, 1))
        return F.relu(self._sep(x, 14, 2))


class SkinLesionNet(nn.Module):
    """Photo (N, 3, 254, 254, pixels 0-255) and metadata (N, 10) to 7 class probabilities."""

    def __init__(self) -> None:
        super().__init__()
        self.normalization = Normalization()
        self.xception = Xception()
        # Image branch: dropout -> dense(264) -> BN; metadata branch: dense(224) -> BN -> dense(64) -> BN.
        self.dense = nn.Linear(2048, 264)
        self.batch_normalization_4 = nn.BatchNorm1d(264, eps=BN_EPSILON)
        self.dense_1 = nn.Linear(METADATA_SIZE, 224)
        self.batch_normalization_5 = nn.BatchNorm1d(224, eps=BN_EPSILON)
        self.dense_2 = nn.Linear(224, 64)
        self.batch_normalization_6 = nn.BatchNorm1d(64, eps=BN_EPSILON)
        self.dense_3 = nn.Linear(264 + 64, 32)
        self.batch_normalization_7 = nn.BatchNorm1d(32, eps=BN_EPSILON)
        self.dense_4 = nn.Linear(32, CLASS_COUNT)

    def features(self, image: torch.Tensor) -> torch.Tensor:
        return self.xception.feature_map(self.normalization(image))

    def head(self, feature_map: torch.Tensor, metadata: torch.Tensor) -> torch.Tensor:
        """Logits from the last feature map (global average pooled) and the metadata."""
        return self.head_parts(feature_map, metadata)[0]

    def head_parts(self, feature_map: torch.Tensor, metadata: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and the photo's 264-number embedding (the image branch, before metadata joins it),
        which the out-of-scope guard compares with real dermoscopy."""
        pooled = feature_map.mean(dim=(2, 3))
        image = self.batch_normalization_4(F.relu(self.dense(pooled)))
        meta = self.batch_normalization_5(F.relu(self.dense_1(metadata)))
        meta = self.batch_normalization_6(F.relu(self.dense_2(meta)))
        joined = self.batch_normalization_7(F.relu(self.dense_3(torch.cat([image, meta], dim=1))))
        return self.dense_4(joined), image

    def forward(self, image: torch.Tensor, metadata: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.head(self.features(image), metadata), dim=1)
