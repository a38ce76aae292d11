"""The agents the planner plans for: a snapshot of the agent registry, and what the planner
derives from it once per change (keyword stems, the reader of each file kind, routing
prototypes). The planner's code names no agent: everything agent-specific comes from here.

`Catalog.installed()` is the seed without a bus (the `aiorch plan` command, tests): the specs
of the agent packages installed beside the planner. The running service follows the
registry instead (`RegistryCatalog`), so an agent is added, upgraded or retired by
deploying its own service.
"""

import re
import threading
from functools import cached_property, lru_cache

from rapidfuzz import fuzz, process

from aiorch.contracts import AgentSpec, installed_specs

from .vocabulary import NONE, PROTOTYPES

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


class Catalog:
    """One immutable view of the live agents (sorted by name) and of those that left."""

    def __init__(self, specs: dict[str, AgentSpec], gone: dict[str, tuple[AgentSpec, str]] | None = None) -> None:
        self.specs = dict(sorted(specs.items()))
        self.gone = {name: value for name, value in (gone or {}).items() if name not in self.specs}
        self.keyword_hits = lru_cache(maxsize=4096)(self._keyword_hits)
        self.prototypes_lock = threading.Lock()
        self.prototypes = None  # (labels, matrix, masks), filled by the embedder on first use

    @classmethod
    def installed(cls) -> "Catalog":
        return cls(installed_specs())

    def __contains__(self, name: str) -> bool:
        return name in self.specs

    def __getitem__(self, name: str) -> AgentSpec:
        return self.specs[name]

    # --- words ------------------------------------------------------------------------------

    @cached_property
    def _stems(self) -> dict[str, tuple[str, ...]]:
        return {name: tuple(stem.lower() for stem in spec.all_keywords()) for name, spec in self.specs.items()}

    def _keyword_hits(self, text: str) -> dict[str, int]:
        """Words per agent that start with one of its stems, or are a typo of one of its words."""
        words = [word.lower() for word in _WORD.findall(text)]
        hits = {}
        for name, stems in self._stems.items():
            fuzzy = self.specs[name].typo_words
            count = 0
            for word in words:
                if word.startswith(stems):
                    count += 1
                elif len(word) >= 4 and fuzzy and process.extractOne(word, fuzzy, scorer=fuzz.ratio, score_cutoff=80):
                    count += 1
            hits[name] = count
        return hits

    def has_request_verb(self, text: str) -> bool:
        """Whether a fragment asks for something an agent does (used to split on "and")."""
        return any(self.keyword_hits(text).values())

    def labelled_sentences(self) -> list[tuple[str, str]]:
        """The routing prototypes: each agent's example requests, and the out-of-scope ones."""
        pairs = [(name, text) for name, spec in self.specs.items() for text in spec.all_examples()]
        return pairs + [(NONE, text) for text in PROTOTYPES[NONE]]

    # --- files and material -------------------------------------------------------------------

    @cached_property
    def kind_of_type(self) -> dict[str, str]:
        """What each accepted media type is (photo, table, text, file), as its agents declare it."""
        kinds: dict[str, str] = {}
        for spec in self.specs.values():
            for media_type in spec.accepts:
                if kinds.get(media_type, "file") == "file":
                    kinds[media_type] = spec.kind_of(media_type)
        return kinds

    @cached_property
    def readable(self) -> frozenset[str]:
        return frozenset(self.kind_of_type)

    @cached_property
    def reader_of(self) -> dict[str, str]:
        """With no telling words, the agent an attached file goes to: the one whose own kind of
        material it is (a table to the cleaner before the text scorer), else any that reads it."""
        readers: dict[str, str] = {}
        for media_type, kind in self.kind_of_type.items():
            takers = [name for name, spec in self.specs.items() if media_type in spec.accepts]
            own = [name for name in takers if self.primary(name) == kind]
            readers[media_type] = (own or takers)[0]
        return readers

    def primary(self, name: str) -> str:
        """The agent's own kind of material (its first), `file` when it names none."""
        material = self.specs[name].material
        return material[0] if material else "file"

    def with_material(self, kind: str) -> list[str]:
        return [name for name, spec in self.specs.items() if kind in spec.material]

    def feeds(self, source: str, reader: str) -> bool:
        """Whether `source`'s output can be `reader`'s input."""
        return source != reader and bool(set(self.specs[source].produces) & set(self.specs[reader].consumes))

    # --- agents that left -----------------------------------------------------------------------

    def gone_asked_for(self, request: str, media_types: set[str]) -> list[tuple[str, str]]:
        """Agents that left the registry which the request asks for by name or by file type:
        (name, why it is not available)."""
        if not self.gone:
            return []
        words = [word.lower() for word in _WORD.findall(request)]
        found = []
        for name, (spec, why) in self.gone.items():
            stems = tuple(stem.lower() for stem in spec.all_keywords())
            by_word = bool(stems) and any(word.startswith(stems) for word in words)
            by_file = bool((set(spec.accepts) & media_types) - self.readable)
            if by_word or by_file:
                found.append((name, why))
        return found


class StaticCatalog:
    """A fixed catalog (tests, the `aiorch plan` command)."""

    def __init__(self, catalog: Catalog | dict[str, AgentSpec] | None = None) -> None:
        if catalog is None:
            catalog = Catalog.installed()
        self._catalog = catalog if isinstance(catalog, Catalog) else Catalog(catalog)

    def current(self) -> Catalog:
        return self._catalog


class RegistryCatalog:
    """The catalog that follows the agent registry: `update(snapshot)` on every change
    (`aiorch.runtime.registry.RegistryView`'s on_change); `current()` the latest."""

    def __init__(self) -> None:
        self._catalog = Catalog({})

    def current(self) -> Catalog:
        return self._catalog

    def update(self, snapshot) -> Catalog:
        catalog = Catalog(snapshot.specs, snapshot.gone)
        self._catalog = catalog
        return catalog
