"""What clients need to build a form: accepted file types, limits, the agents."""

from fastapi import APIRouter
from pydantic import BaseModel

from aiorch.contracts import CATALOG, accepted_media_types

from ...deps import Reader, Settings, errors

router = APIRouter(prefix="/v1", tags=["info"])


class AgentInfo(BaseModel):
    name: str
    title: str
    description: str
    accepts: list[str]


class Limits(BaseModel):
    accepted_media_types: list[str]
    max_upload_bytes: int
    max_files: int
    max_request_chars: int
    agents: list[AgentInfo]


@router.get("/limits", response_model=Limits, responses=errors(401, 403))
async def limits(settings: Settings, principal: Reader) -> Limits:
    """Accepted upload types and limits, and the agents that serve requests."""
    return Limits(
        accepted_media_types=accepted_media_types(),
        max_upload_bytes=settings.max_upload_bytes,
        max_files=settings.max_files,
        max_request_chars=settings.max_request_chars,
        agents=[AgentInfo(name=s.name, title=s.title, description=s.description, accepts=s.accepts)
                for s in CATALOG.values()],
    )
