"""Upload checks: media type from the bytes (not the name), size limits, safe names."""

from dataclasses import dataclass

from aiorch.runtime.mediatypes import SNIFF_BYTES, detect_media_type
from aiorch.runtime.storage import safe_name

__all__ = ["SNIFF_BYTES", "UploadProblem", "detect_media_type", "unique_safe_names"]


@dataclass
class UploadProblem(Exception):
    status: int
    message: str


def unique_safe_names(names: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for name in names:
        base = candidate = safe_name(name)
        stem, dot, ext = base.rpartition(".")
        counter = 1
        while candidate in seen:
            counter += 1
            candidate = f"{stem}-{counter}.{ext}" if dot else f"{base}-{counter}"
        seen.add(candidate)
        result.append(candidate)
    return result
