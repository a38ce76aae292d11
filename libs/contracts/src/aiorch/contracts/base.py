from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, field_validator

from .version import SCHEMA_MAJOR, SCHEMA_VERSION


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    """Base of every contract type. Unknown fields are ignored so a newer minor
    version of a message still validates in an older reader."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Message(Model):
    """Base of every message put on the bus."""

    schema_version: str = SCHEMA_VERSION

    @field_validator("schema_version")
    @classmethod
    def _same_major(cls, value: str) -> str:
        major = value.split(".", 1)[0]
        if not major.isdigit() or int(major) != SCHEMA_MAJOR:
            raise ValueError(
                f"schema_version {value!r} is not compatible with {SCHEMA_VERSION} "
                f"(major version must be {SCHEMA_MAJOR})"
            )
        return value
