"""What an agent is: its spec, as each agent service publishes it to the registry.

The spec model is a contract (versioned with the other messages); its content is not:
each agent service ships its own spec (`aiorch/<agent>/agentspec.py`, a module-level
`SPEC`) and publishes it to the KV bucket `REGISTRY_BUCKET` when it starts, with a
heartbeat (`AgentRegistration`). The gateway and the planner read the registry (see
`aiorch.runtime.registry`); nothing else names an agent.

`installed_specs()` finds the specs of the agent packages installed beside the caller
(every `aiorch.<pkg>.agentspec`): the seed for tools and tests that run without a bus
(`aiorch plan`, the planner's labelled set), and the list of agent services for `make run`.
"""

import importlib
import importlib.util
import pkgutil
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Message, Model, utcnow

REGISTRY_BUCKET = "aiorch_agents"
"""KV bucket of agent registrations, keyed `<agent>.<instance>`."""

MaterialKind = Literal["address", "photo", "table", "text", "file"]
"""What an agent works on: a web address in the request, a photo, a table, a text (quoted,
after a colon, or a text file), or any other file of a type it accepts."""

ParamSource = Literal[
    "url", "quoted_text", "quoted_texts", "column", "patient.age", "patient.sex", "patient.location",
]
"""What the planner can read off a request for a parameter: the first address, the first
or all quoted texts (only for a step with no other input), the last column named, what
the request says about a patient."""

_LANGUAGE = re.compile(r"^[a-z]{2}$")
_VERSION = re.compile(r"^\d+\.\d+(?:\.\d+)?(?:[-+][\w.]+)?$")


class ParameterSpec(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    type: Literal["string", "number", "integer", "boolean", "list[string]"] = "string"
    description: str = ""
    from_request: ParamSource | None = None
    """Where the planner finds the value in the request (None: only from the caller's params)."""


class AgentSpec(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    version: str = "1.0.0"
    """The agent's own semantic version: a new major is an incompatible spec."""
    title: str
    description: str
    accepts: list[str] = []
    """Media types of files the agent reads."""
    kinds: dict[str, MaterialKind] = {}
    """What each accepted media type is to the agent (`text/csv`: table); unnamed ones are `file`.
    A media type means the same to every agent: a registration that disagrees is rejected."""
    material: list[MaterialKind] = []
    """What it needs to have something to work on, its own kind first (an address, a photo,
    a table, a text); files of a type it accepts always count."""
    missing: str = ""
    """What to add when the agent is asked for without its material ("attach the photo ...")."""
    consumes: list[str] = []
    """Output names of other agents it can take as input (e.g. `texts`)."""
    produces: list[str] = []
    """Output names it offers to later steps."""
    parameters: list[ParameterSpec] = []
    keywords: dict[str, list[str]] = {}
    """Per language (ISO 639-1): words or stems that signal the agent is wanted."""
    typo_words: list[str] = []
    """Words the planner also recognises misspelt."""
    examples: dict[str, list[str]] = {}
    """Per language: example requests, the planner's routing prototypes."""

    @field_validator("keywords", "examples", mode="before")
    @classmethod
    def _per_language(cls, value):
        return {"en": value} if isinstance(value, list) else value

    @field_validator("keywords", "examples")
    @classmethod
    def _languages(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        bad = [language for language in value if not _LANGUAGE.match(language)]
        if bad:
            raise ValueError(f"not ISO 639-1 language codes: {bad}")
        return value

    @field_validator("version")
    @classmethod
    def _semantic(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError(f"version {value!r} is not MAJOR.MINOR[.PATCH]")
        return value

    @model_validator(mode="after")
    def _kinds_of_accepted_types(self) -> "AgentSpec":
        unknown = sorted(set(self.kinds) - set(self.accepts))
        if unknown:
            raise ValueError(f"kinds name media types the agent does not accept: {unknown}")
        return self

    @property
    def major(self) -> int:
        return int(self.version.split(".", 1)[0])

    def kind_of(self, media_type: str) -> MaterialKind:
        return self.kinds.get(media_type, "file")

    def all_keywords(self) -> list[str]:
        return [word for words in self.keywords.values() for word in words]

    def all_examples(self) -> list[str]:
        return [text for texts in self.examples.values() for text in texts]


class AgentRegistration(Message):
    """One running instance of an agent, as written to `REGISTRY_BUCKET` under
    `<agent>.<instance>` at start and again every heartbeat; deleted when it stops."""

    instance: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    spec: AgentSpec
    started_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow)
    ttl_s: float = Field(default=15.0, gt=0)
    """After this long without a heartbeat the instance counts as gone."""


def registry_key(agent: str, instance: str) -> str:
    return f"{agent}.{instance}"


@cache
def installed_specs() -> dict[str, AgentSpec]:
    """The specs of the agent packages installed here (`aiorch.<pkg>.agentspec.SPEC`), by name."""
    import aiorch

    specs: dict[str, AgentSpec] = {}
    for module in sorted(pkgutil.iter_modules(aiorch.__path__), key=lambda m: m.name):
        if not module.ispkg:
            continue
        found = importlib.util.find_spec(f"aiorch.{module.name}")
        locations = list(found.submodule_search_locations or []) if found else []
        if not any((Path(location) / "agentspec.py").is_file() for location in locations):
            continue
        spec = importlib.import_module(f"aiorch.{module.name}.agentspec").SPEC
        specs[spec.name] = spec
    return dict(sorted(specs.items()))


def accepted_media_types(catalog: dict[str, AgentSpec] | None = None) -> list[str]:
    catalog = installed_specs() if catalog is None else catalog
    return sorted({media_type for spec in catalog.values() for media_type in spec.accepts})


def __getattr__(name: str):
    if name == "CATALOG":  # before the registry: the installed agents' specs
        return installed_specs()
    raise AttributeError(name)
