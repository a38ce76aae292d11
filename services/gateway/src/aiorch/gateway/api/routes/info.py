"""What clients need to build a form: accepted file types, limits, the agents (from the
agent registry: they change as agent services start and stop)."""

from fastapi import APIRouter
from pydantic import BaseModel

from aiorch.contracts import AgentSpec

from ... import agents
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


class AgentInstance(BaseModel):
    instance: str
    version: str
    started_at: str
    heartbeat_at: str


class RegisteredAgent(BaseModel):
    spec: AgentSpec
    """The spec that counts (the newest compatible one when instances differ)."""
    instances: list[AgentInstance]
    """Its running instances; none while it restarts (still planned for, for AIORCH_REGISTRY_GRACE_S)."""


class GoneAgent(BaseModel):
    name: str
    version: str
    reason: str


class Agents(BaseModel):
    agents: list[RegisteredAgent]
    """The agents that serve requests now."""
    gone: list[GoneAgent]
    """Agents that were registered and left (stopped, or missed their heartbeats)."""
    problems: list[str]
    """Registrations rejected (malformed, unknown schema version, a media type another agent
    owns with another meaning) and instances that run different versions."""


@router.get("/limits", response_model=Limits, responses=errors(401, 403))
async def limits(settings: Settings, principal: Reader) -> Limits:
    """Accepted upload types and limits, and the agents that serve requests."""
    snapshot = agents.snapshot()
    return Limits(
        accepted_media_types=snapshot.accepted_media_types(),
        max_upload_bytes=settings.max_upload_bytes,
        max_files=settings.max_files,
        max_request_chars=settings.max_request_chars,
        agents=[AgentInfo(name=s.name, title=s.title, description=s.description, accepts=s.accepts)
                for s in snapshot.specs.values()],
    )


@router.get("/agents", response_model=Agents, responses=errors(401, 403))
async def registered_agents(principal: Reader) -> Agents:
    """The agent registry: each live agent's spec and instances, the agents that left, and
    the registrations that were rejected."""
    snapshot, instances = agents.snapshot(), agents.instances()
    return Agents(
        agents=[RegisteredAgent(spec=spec, instances=[AgentInstance(**i) for i in instances.get(name, [])])
                for name, spec in snapshot.specs.items()],
        gone=[GoneAgent(name=name, version=spec.version, reason=why) for name, (spec, why) in snapshot.gone.items()],
        problems=snapshot.problems,
    )
