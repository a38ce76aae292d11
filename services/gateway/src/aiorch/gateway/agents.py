"""The agents the gateway serves: the agent registry as the gateway's `RegistryView` sees it
(accepted upload types, `/v1/agents`, `/v1/limits`). Set by the app's lifespan; without one
(a unit test of a route) the agents installed beside the gateway stand in."""

from aiorch.contracts import AgentSpec, installed_specs
from aiorch.runtime.registry import RegistryView, Snapshot

view: RegistryView | None = None


def snapshot() -> Snapshot:
    return view.snapshot if view is not None else Snapshot(specs=installed_specs())


def specs() -> dict[str, AgentSpec]:
    return snapshot().specs


def accepted_media_types() -> list[str]:
    return snapshot().accepted_media_types()


def instances() -> dict[str, list[dict]]:
    """Per live agent, its instances with their latest heartbeats."""
    return view.instances() if view is not None else {}
