"""Offline planner (the default): a request split into clauses, each routed to an agent by
sentence embeddings and keyword evidence, checked against what is attached, and joined
into a DAG where data flows (a page read, then its table cleaned, then its texts scored)
and parallel where it does not.

The code names no agent: what each agent needs (an address, a photo, a table, a text), reads,
offers, is asked for with and takes as parameters comes from its spec in the catalog, which
follows the agent registry. No network; a few milliseconds per request once the embedding
model is loaded.
"""

import asyncio
from dataclasses import dataclass
from functools import cached_property

from aiorch.contracts import AgentSpec, FileInput, FileRef, Plan, PlanStep, StepOutputInput
from aiorch.contracts.patient import from_text as patient_from_text

from . import language
from .catalog import Catalog, StaticCatalog
from .routing import embedder, score_clauses
from .vocabulary import NONE

MARGIN = 0.02
"""How much an agent must beat the closest out-of-scope example by."""


# Score adjustments per kind of material an agent needs: (it came with the request, it did not).
# A missing address or photo all but rules an agent out; a table an earlier step can supply
# (a page's) does not count against its agent; a text is often in the words themselves.
EVIDENCE = {"address": (0.0, -0.6), "photo": (0.1, -0.6), "table": (0.1, -0.35), "text": (0.05, 0.0),
            "file": (0.1, -0.6)}
ADDRESS_IN_CLAUSE = 0.15
"""Beyond its material: the clause itself gives the address."""
OTHERS_FILES_ONLY = -0.3
"""An agent that works on words, when only other agents' files came (a photo, no text)."""


@dataclass(frozen=True)
class Material:
    """What a request brings to work on (addresses, photos, tables, texts, other files) and its
    clauses; read once per request against the catalog."""

    catalog: Catalog
    request: str
    clauses: list[str]
    addresses: list[str]
    files: list[FileRef]

    @classmethod
    def of(cls, catalog: Catalog, request: str, files: list[FileRef]) -> "Material":
        return cls(catalog, request, language.split_clauses(request, catalog.has_request_verb) or [request],
                   language.urls(request), files)

    def of_kind(self, agent: str, kind: str) -> list[FileRef]:
        """Attached files the agent reads that are `kind` (photo, table, text, file)."""
        spec = self.catalog[agent]
        return [ref for ref in self.files if ref.media_type in spec.accepts and spec.kind_of(ref.media_type) == kind]

    @cached_property
    def readable(self) -> list[FileRef]:
        return [ref for ref in self.files if ref.media_type in self.catalog.readable]

    @cached_property
    def inline_text(self) -> bool:
        return self.quoted or language.has_inline_text(self.request)

    def has_own(self, agent: str) -> bool:
        """Whether the request brings the agent material of its own: a file it reads, an
        address when it reads pages, a text in the words when it reads texts."""
        spec = self.catalog[agent]
        return (any(ref.media_type in spec.accepts for ref in self.files)
                or ("address" in spec.material and bool(self.addresses))
                or ("text" in spec.material and self.inline_text))

    @cached_property
    def quoted(self) -> bool:
        return bool(language.quoted(self.request))

    @cached_property
    def vague(self) -> bool:
        """Nothing asked beyond "do something with this": the attached files say what is wanted."""
        return all(language.is_vague(clause) for clause in self.clauses)

    @cached_property
    def feasible(self) -> dict[str, bool]:
        """Whether each agent has something to work on: material of its own, or the output of
        an agent that has (a page's table for the cleaner)."""
        own = {name: self.has_own(name) for name in self.catalog.specs}
        return {name: own[name] or any(own[source] and self.catalog.feeds(source, name) for source in own)
                for name in own}

    def brings_own(self, agent: str) -> bool:
        """Whether the request hands this agent its own kind of material (an attached table, a
        text file, a quoted sentence), so that its step runs beside an earlier one instead of
        on its output. An agent that takes no other agent's output always does."""
        if not self.catalog[agent].consumes:
            return True
        kind = self.catalog.primary(agent)
        return (bool(self.of_kind(agent, kind)) or (kind == "text" and self.quotes_a_text)
                or (kind == "address" and bool(self.addresses)))

    @cached_property
    def quotes_a_text(self) -> bool:
        """A quoted sentence to score, not a quoted column name ("the 'feedback' column")."""
        names = {name.lower() for name in language.columns(self.request)}
        return any(len(text.split()) > 1 and text.lower() not in names for text in language.quoted(self.request))

    def evidence(self, clause: str) -> dict[str, float]:
        """Score adjustments per agent for one clause, from what came with the request."""
        return {name: self._evidence(name, clause) for name in self.catalog.specs}

    def _evidence(self, agent: str, clause: str) -> float:
        kind = self.catalog.primary(agent)
        present, absent = EVIDENCE.get(kind, EVIDENCE["file"])
        if kind == "address":
            return (ADDRESS_IN_CLAUSE if language.urls(clause) else present) if self.addresses else absent
        if kind == "text":
            if self.of_kind(agent, "text") or self.quoted:
                return present
            if any(ref.media_type in self.catalog[agent].accepts for ref in self.files):
                return absent
            others = [ref for ref in self.files
                      if self.catalog.primary(self.catalog.reader_of.get(ref.media_type, agent)) not in ("file", kind)]
            return OTHERS_FILES_ONLY if others else absent
        if self.of_kind(agent, kind):
            return present
        return 0.0 if self.feasible.get(agent) else absent  # an earlier step can supply it


def _in_data_order(agents: list[str], material: Material) -> list[str]:
    """A page is read before the step that works on it; a table is cleaned before its texts
    are scored: a step that takes another's output and brings nothing of its own moves after
    the step that offers it. Steps with material of their own keep the order the request gave."""
    catalog = material.catalog
    agents = list(agents)
    readers = catalog.with_material("address")
    if material.addresses and readers and not set(readers) & set(agents) and not material.readable:
        agents.insert(0, readers[0])
    for _ in range(len(agents) ** 2):
        for index, agent in enumerate(agents):
            if material.brings_own(agent):
                continue
            sources = [later for later in agents[index + 1:] if catalog.feeds(later, agent)]
            if sources:
                agents.remove(sources[0])
                agents.insert(index, sources[0])
                break
        else:
            break
    return agents


def capabilities(catalog: Catalog) -> str:
    return "; ".join(f"{spec.title.lower()} ({spec.description})" for spec in catalog.specs.values())


class OfflinePlanner:
    name = "offline"

    def __init__(self, catalog: "StaticCatalog | Catalog | dict[str, AgentSpec] | None" = None) -> None:
        """`catalog`: anything with `current() -> Catalog` (the registry's), or a fixed set of
        specs; by default the agents installed beside the planner."""
        self.source = catalog if hasattr(catalog, "current") else StaticCatalog(catalog)

    @property
    def catalog(self) -> Catalog:
        return self.source.current()

    async def plan(self, task_id: str, request: str, files: list[FileRef], params: dict) -> Plan:
        catalog = self.catalog
        material = Material.of(catalog, request, files)
        agents = self._agents_without_model(material, files, params)
        if agents is None:  # the embedding model: ~15 ms of CPU, off the event loop
            agents = await asyncio.to_thread(self._route, material, files)
        return self._answer(task_id, material, files, params, agents)

    def plan_now(self, task_id: str, request: str, files: list[FileRef], params: dict) -> Plan:
        material = Material.of(self.catalog, request, files)
        agents = self._agents_without_model(material, files, params)
        if agents is None:
            agents = self._route(material, files)
        return self._answer(task_id, material, files, params, agents)

    @staticmethod
    def warm(catalog: Catalog | None = None) -> None:
        """Load the embedding model and encode the examples of `catalog` (the installed agents'
        by default) now rather than on the first request (a few seconds)."""
        embedder().prepare(catalog or Catalog.installed())

    def _agents_without_model(self, material: Material, files: list[FileRef], params: dict) -> list[str] | None:
        """The answer when words and attachments settle it (most plain requests); None when they do not."""
        forced = params.get("agent")
        if isinstance(forced, str) and forced in material.catalog:
            return [forced]
        request = material.request
        if language.is_unsafe(request) or language.impossible(request):
            return []
        if files and not material.readable and not material.quoted:
            return []  # only files no agent reads
        if material.addresses and not files and language.page_actions(request) and not language.out_of_scope(request):
            readers = material.catalog.with_material("address")
            if readers:  # clicks, choices, typing on a page: the page reader's work, quoted words and all
                return readers[:1]
        plain = self._plainly_one_agent(material)
        return None if plain is None else _in_data_order([plain], material)

    def _answer(self, task_id: str, material: Material, files: list[FileRef], params: dict,
                agents: list[str]) -> Plan:
        catalog = material.catalog
        if agents:
            return self._plan(task_id, material, files, params, agents)
        if language.is_unsafe(material.request):
            return self._nothing(task_id, "aiorch does not act on instructions to change its rules or to delete, "
                                          f"reveal or run anything. aiorch can do: {capabilities(catalog)}.")
        gone = "".join(f"The {name} agent is not available: {why}. "
                       for name, why in catalog.gone_asked_for(material.request, {ref.media_type for ref in files}))
        types = sorted({ref.media_type for ref in files} - catalog.readable)
        told = f"{gone}No agent reads {', '.join(types)}. " if types and not material.readable else gone
        missing = self._missing_material(material)
        if missing:
            return self._nothing(task_id, f"{told}{missing}")
        kind = None if told else language.unserved_kind(material.request)
        unserved = f"aiorch has no agent for {kind}." if kind else "No agent can serve this request."
        return self._nothing(task_id, f"{told}{unserved} aiorch can do: {capabilities(catalog) or 'nothing now'}.")

    @staticmethod
    def _names_only_agents_without_material(material: Material) -> list[str]:
        """The agents the words ask for, when none of them was given anything to work on
        ("the sentiment of this" with only a photo attached); else []."""
        hits = material.catalog.keyword_hits(language.URL.sub(" ", material.request))
        named = [name for name, count in hits.items() if count]
        return [] if any(material.feasible.get(name, True) for name in named) else named

    def _missing_material(self, material: Material) -> str | None:
        """What to add when the words ask for an agent that was given nothing to work on
        ("clean my csv" with no file)."""
        request = material.request
        if language.out_of_scope(request) or language.impossible(request):
            return None
        wanted = self._names_only_agents_without_material(material)
        if len(wanted) != 1 or not material.catalog[wanted[0]].missing:
            return None
        return f"The {wanted[0]} agent has nothing to work on: {material.catalog[wanted[0]].missing}"

    def _route(self, material: Material, files: list[FileRef]) -> list[str]:
        """The agents the request needs, in the order it asks for them, by the embedding model."""
        catalog, clauses = material.catalog, material.clauses
        scored = score_clauses(catalog, clauses, [material.evidence(clause) for clause in clauses])
        agents = self._from_clauses(clauses, scored, material)
        if language.out_of_scope(material.request):
            # An x-ray, audio, a PDF, a translation: only an agent the wording names outright stays,
            # and none that works on photos (an x-ray is not one).
            named = catalog.keyword_hits(language.without_out_of_scope(material.request))
            agents = [agent for agent in agents if "photo" not in catalog[agent].material and named.get(agent)]
            if not agents:
                return []
        elif not agents and (material.vague or not self._names_only_agents_without_material(material)):
            agents = [agent for agent in self._by_files(files, material, scored) if material.feasible[agent]]
        return _in_data_order(agents, material)

    @staticmethod
    def _plainly_one_agent(material: Material) -> str | None:
        """The common case needs no model: one clause, in scope, whose words name exactly one
        agent that has something to work on ("what is the sentiment of '…'" with quoted text)."""
        if len(material.clauses) != 1 or language.out_of_scope(material.request):
            return None
        hits = material.catalog.keyword_hits(language.URL.sub(" ", material.clauses[0]))
        named = [name for name, count in hits.items() if count]
        if len(named) != 1 or not material.feasible.get(named[0]):
            return None
        agent = named[0]
        # Material another agent could work on (a page, another file) means the request may want it too.
        others = [name for name, ok in material.feasible.items() if ok and name != agent]
        return None if others else agent

    def _from_clauses(self, clauses: list[str], scored: list, material: Material) -> list[str]:
        catalog = material.catalog
        hits_per_clause = [catalog.keyword_hits(clause) for clause in clauses]
        agents: list[str] = []
        for clause, scores, hits in zip(clauses, scored, hits_per_clause):
            if not any(hits.values()) and any(any(other.values()) for other in hits_per_clause):
                continue  # context ("for each response in column q3"), not a request of its own
            candidates = [name for name in scores.agent_scores if material.feasible.get(name, True)]
            if not candidates:
                continue
            best = max(candidates, key=scores.agent_scores.get)
            # A clause that names the agent ("classify the photo") need only match it as well as anything else.
            if scores.agent_scores[best] < scores.similarity[NONE] + (0.0 if hits.get(best) else MARGIN):
                continue
            reads_pages = "address" in catalog[best].material
            if reads_pages and not language.urls(clause) and best in agents:
                continue
            agents.append(best)
            if reads_pages:
                agents += self._follower(catalog, best, clause, scores)
        return list(dict.fromkeys(agents))

    @staticmethod
    def _follower(catalog: Catalog, reader: str, clause: str, scores) -> list[str]:
        """One clause can both name a page and ask for work on it: "clean the table on <url>".
        What the page holds ("the reviews on <url>") is not yet a request to score it."""
        bare = language.URL.sub(" ", clause)
        hits = catalog.keyword_hits(language.without_material_nouns(bare))
        named_material_only = {name for name, count in catalog.keyword_hits(bare).items()
                               if count and not hits.get(name)}

        def margin(name: str) -> float:
            return 0.1 if hits.get(name) else 0.4 if name in named_material_only else 0.15

        candidates = [name for name in catalog.specs if catalog.feeds(reader, name)
                      and scores.agent_scores[name] > scores.similarity[NONE] + margin(name)]
        return candidates[:1]

    def _by_files(self, files: list[FileRef], material: Material, scored) -> list[str]:
        """Nothing in the wording: attached files decide, unless the request is plainly about something else."""
        if not files:
            return []
        if not material.vague and all(s.similarity[NONE] > max(s.agent_scores.values()) + 0.05 for s in scored):
            return []
        agents = [material.catalog.reader_of.get(ref.media_type) for ref in files]
        return list(dict.fromkeys(agent for agent in agents if agent is not None))

    def _plan(self, task_id: str, material: Material, files: list[FileRef], params: dict, agents: list[str]) -> Plan:
        request, catalog = material.request, material.catalog
        steps: list[PlanStep] = []
        claimed: set[str] = set()
        for index, agent in enumerate(agents):
            step_id = f"s{index + 1}"
            spec = catalog[agent]
            source = None if material.brings_own(agent) else self._upstream(catalog, steps, spec)
            inputs: list = []
            depends_on: list[str] = []
            if source is not None:
                output = next(name for name in catalog[source.agent].produces if name in spec.consumes)
                inputs.append(StepOutputInput(step=source.id, output=output))
                depends_on.append(source.id)
            else:
                mine = [ref for ref in files if ref.media_type in spec.accepts and ref.key not in claimed]
                # A file is its first reader's alone (a table to the cleaner); others may share it.
                claimed |= {ref.key for ref in mine if catalog.reader_of.get(ref.media_type) == agent}
                inputs += [FileInput(file=ref) for ref in mine]
            step_params = {key: value for key, value in params.items() if key != "agent"}
            step_params = extract(spec, request, has_input=bool(inputs)) | step_params
            steps.append(PlanStep(id=step_id, agent=agent, instruction=request, inputs=inputs,
                                  depends_on=depends_on, params=step_params))
        return Plan(task_id=task_id, planner=self.name, steps=steps)

    @staticmethod
    def _upstream(catalog: Catalog, steps: list[PlanStep], spec: AgentSpec) -> PlanStep | None:
        """The latest earlier step whose output this agent reads (a page's table, a cleaned file)."""
        for step in reversed(steps):
            if set(catalog[step.agent].produces) & set(spec.consumes):
                return step
        return None

    def extract(self, agent: str, request: str, has_input: bool) -> dict:
        """Parameters read off the request for one agent's step (the OpenAI planner uses them too)."""
        spec = self.catalog.specs.get(agent)
        return extract(spec, request, has_input) if spec is not None else {}

    def _nothing(self, task_id: str, explanation: str) -> Plan:
        return Plan(task_id=task_id, planner=self.name, steps=[], explanation=explanation)


def extract(spec: AgentSpec, request: str, has_input: bool) -> dict:
    """The parameters the agent's spec declares that the request gives: an address, the
    quoted texts (for a step with no other input), a column, what it says about a patient."""
    found: dict = {}
    patient = None
    for parameter in spec.parameters:
        source = parameter.from_request
        value = None
        if source == "url":
            value = next(iter(language.urls(request)), None)
        elif source in ("quoted_text", "quoted_texts"):
            texts = language.quoted(request) if not has_input else []
            value = (texts or None) if source == "quoted_texts" else next(iter(texts), None)
        elif source == "column":
            value = next(iter(language.columns(request)[-1:]), None)
        elif source is not None and source.startswith("patient."):
            patient = patient or patient_from_text(request)
            value = getattr(patient, source.split(".", 1)[1], None)
        if value is not None:
            found[parameter.name] = value
    return found
