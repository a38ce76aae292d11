from pydantic import Field

from .base import Model


class FileRef(Model):
    """A file in the object store. Messages carry these, never file bytes."""

    key: str = Field(min_length=1, max_length=512)
    name: str = Field(min_length=1, max_length=255)
    media_type: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
