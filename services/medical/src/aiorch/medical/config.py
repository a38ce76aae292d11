from pathlib import Path

from pydantic import AliasChoices, Field

from aiorch.runtime.agent import AgentSettings


class MedicalSettings(AgentSettings):
    concurrency: int = 2
    medical_model: Path = Field(default=Path(".data/models/sklesion"),
                                validation_alias=AliasChoices("MEDICAL_MODEL", "AIORCH_MEDICAL_MODEL"))
    """A folder with the converted sklesion weights, or a transformers image-classification checkpoint."""
    torch_threads: int = Field(default=1, ge=1)
    """Threads per forward pass; steps run side by side up to `concurrency`."""
    max_image_pixels: int = 40_000_000
    max_images: int = 20
    heatmaps: bool = True
    """Grad-CAM overlays (one extra backward pass per image)."""
