"""Offline planner (the default): a request split into clauses, each routed to an agent by
sentence embeddings and keyword evidence, checked against what is attached, and joined
into a DAG where data flows (browser -> csv -> sentiment) and parallel where it does not.

No network; a few milliseconds per request once the embedding model is loaded.
"""

import asyncio
from dataclasses import dataclass
from functools import cached_property

from aiorch.contracts import CATALOG, AgentSpec, FileInput, FileRef, Plan, PlanStep, StepOutputInput
from aiorch.contracts.patient import from_text as patient_from_text

from . import language
from .routing import embedder, has_request_verb, keyword_hits, score_clauses
from .vocabulary import NONE

IMAGE_TYPES = frozenset(CATALOG["medical"].accepts)
TABLE_TYPES = frozenset(CATALOG["csv"].accepts)
# With no telling words, an attached file goes to the agent that reads its kind first.
AGENT_FOR_FILE = {**dict.fromkeys(IMAGE_TYPES, "medical"), **dict.fromkeys(TABLE_TYPES, "csv"), "text/plain": "sentiment"}
# What to add when an agent is asked for without its material.
NEEDS = {
    "csv": "attach the CSV file (or give the address of a page with the table) and send the request again.",
    "medical": "attach a photo of the skin lesion (JPEG, PNG, WebP or HEIC) and send the request again.",
    "sentiment": "quote the text, write it after a colon, or attach a text or CSV file.",
    "browser": "give the address of the page (https://…).",
}
MARGIN = 0.02
"""How much an agent must beat the closest out-of-scope example by."""


@dataclass(frozen=True)
class Material:
    """What a request brings to work on (addresses, photos, tables, texts) and its clauses;
    read once per request."""

    request: str
    clauses: list[str]
    addresses: list[str]
    images: list[FileRef]
    tables: list[FileRef]
    texts: list[FileRef]

    @classmethod
    def of(cls, request: str, files: list[FileRef]) -> "Material":
        return cls(request, language.split_clauses(request, has_request_verb) or [request], language.urls(request),
                   [ref for ref in files if ref.media_type in IMAGE_TYPES],
                   [ref for ref in files if ref.media_type in TABLE_TYPES],
                   [ref for ref in files if ref.media_type == "text/plain"])

    @cached_property
    def quoted(self) -> bool:
        return bool(language.quoted(self.request))

    @cached_property
    def vague(self) -> bool:
        """Nothing asked beyond "do something with this": the attached files say what is wanted."""
        return all(language.is_vague(clause) for clause in self.clauses)

    @cached_property
    def feasible(self) -> dict[str, bool]:
        """Whether each agent has something to work on: an address, a photo, a table, a text."""
        return {
            "browser": bool(self.addresses),
            "medical": bool(self.images),
            "csv": bool(self.tables or self.addresses),
            "sentiment": bool(self.texts or self.tables or self.addresses or self.quoted
                              or language.has_inline_text(self.request)),
        }

    def brings_own(self, agent: str) -> bool:
        """Whether the request hands this agent its own material (an attached table, a text file,
        a quoted sentence), so that its step runs beside an earlier one instead of on its output."""
        if agent == "csv":
            return bool(self.tables)
        if agent == "sentiment":
            return bool(self.texts) or self.quotes_a_text
        return True

    @cached_property
    def quotes_a_text(self) -> bool:
        """A quoted sentence to score, not a quoted column name ("the 'feedback' column")."""
        names = {name.lower() for name in language.columns(self.request)}
        return any(len(text.split()) > 1 and text.lower() not in names for text in language.quoted(self.request))

    def evidence(self, clause: str) -> dict[str, float]:
        """Score adjustments per agent for one clause, from what came with the request."""
        browser = (0.15 if language.urls(clause) else 0.0) if self.addresses else -0.6
        return {
            "browser": browser,
            "medical": 0.1 if self.images else -0.6,
            "csv": 0.1 if self.tables else (0.0 if self.addresses else -0.35),
            "sentiment": 0.05 if (self.texts or self.quoted) else (-0.3 if self.images and not self.tables else 0.0),
        }


def _in_data_order(agents: list[str], material: Material) -> list[str]:
    """A page is read before the step that works on it; a table is cleaned before its texts
    are scored. Steps with material of their own keep the order the request gave."""
    agents = list(agents)
    if material.addresses and "browser" not in agents and not (material.images or material.tables or material.texts):
        agents.insert(0, "browser")
    readers = [agent for agent in agents if agent in ("csv", "sentiment") and not material.brings_own(agent)]
    if "browser" in agents and readers and agents.index(readers[0]) < agents.index("browser"):
        agents.remove("browser")
        agents.insert(agents.index(readers[0]), "browser")
    if ({"csv", "sentiment"} <= set(agents) and not material.brings_own("sentiment")
            and agents.index("sentiment") < agents.index("csv")):
        agents.remove("csv")
        agents.insert(agents.index("sentiment"), "csv")
    return agents


def capabilities(catalog: dict[str, AgentSpec] = CATALOG) -> str:
    return "; ".join(f"{spec.title.lower()} ({spec.description})" for spec in catalog.values())


class OfflinePlanner:
    name = "offline"

    def __init__(self, catalog: dict[str, AgentSpec] = CATALOG) -> None:
        self.catalog = catalog

    async def plan(self, task_id: str, request: str, files: list[FileRef], params: dict) -> Plan:
        material = Material.of(request, files)
        agents = self._agents_without_model(material, files, params)
        if agents is None:  # the embedding model: ~15 ms of CPU, off the event loop
            agents = await asyncio.to_thread(self._route, material, files)
        return self._answer(task_id, material, files, params, agents)

    def plan_now(self, task_id: str, request: str, files: list[FileRef], params: dict) -> Plan:
        material = Material.of(request, files)
        agents = self._agents_without_model(material, files, params)
        if agents is None:
            agents = self._route(material, files)
        return self._answer(task_id, material, files, params, agents)

    @staticmethod
    def warm() -> None:
        """Load the embedding model now rather than on the first request (a few seconds)."""
        embedder()

    def _agents_without_model(self, material: Material, files: list[FileRef], params: dict) -> list[str] | None:
        """The answer when words and attachments settle it (most plain requests); None when they do not."""
        forced = params.get("agent")
        if isinstance(forced, str) and forced in self.catalog:
            return [forced]
        request = material.request
        if language.is_unsafe(request) or language.impossible(request):
            return []
        if files and not self._usable(files) and not material.quoted:
            return []  # only files no agent reads
        if material.addresses and not files and language.page_actions(request) and not language.out_of_scope(request):
            return ["browser"]  # clicks, choices, typing on a page: the browser's work, quoted words and all
        plain = self._plainly_one_agent(material)
        return None if plain is None else _in_data_order([plain], material)

    def _answer(self, task_id: str, material: Material, files: list[FileRef], params: dict,
                agents: list[str]) -> Plan:
        if agents:
            return self._plan(task_id, material, files, params, agents)
        if language.is_unsafe(material.request):
            return self._nothing(task_id, "aiorch does not act on instructions to change its rules or to delete, "
                                          f"reveal or run anything. aiorch can do: {capabilities(self.catalog)}.")
        types = sorted({ref.media_type for ref in files} - self._readable())
        told = f"No agent reads {', '.join(types)}. " if types and not self._usable(files) else ""
        missing = self._missing_material(material)
        if missing:
            return self._nothing(task_id, f"{told}{missing}")
        kind = None if told else language.unserved_kind(material.request)
        unserved = f"aiorch has no agent for {kind}." if kind else "No agent can serve this request."
        return self._nothing(task_id, f"{told}{unserved} aiorch can do: {capabilities(self.catalog)}.")

    @staticmethod
    def _names_only_agents_without_material(material: Material) -> list[str]:
        """The agents the words ask for, when none of them was given anything to work on
        ("the sentiment of this" with only a photo attached); else []."""
        hits = keyword_hits(language.URL.sub(" ", material.request))
        named = [name for name, count in hits.items() if count]
        return [] if any(material.feasible.get(name, True) for name in named) else named

    def _missing_material(self, material: Material) -> str | None:
        """What to add when the words ask for an agent that was given nothing to work on
        ("clean my csv" with no file)."""
        request = material.request
        if language.out_of_scope(request) or language.impossible(request):
            return None
        wanted = self._names_only_agents_without_material(material)
        if len(wanted) != 1 or wanted[0] not in NEEDS:
            return None
        return f"The {wanted[0]} agent has nothing to work on: {NEEDS[wanted[0]]}"

    def _route(self, material: Material, files: list[FileRef]) -> list[str]:
        """The agents the request needs, in the order it asks for them, by the embedding model."""
        clauses = material.clauses
        scored = score_clauses(clauses, [material.evidence(clause) for clause in clauses])
        agents = self._from_clauses(clauses, scored, material)
        if language.out_of_scope(material.request):
            # An x-ray, audio, a PDF, a translation: only an agent the wording names outright stays.
            named = keyword_hits(language.without_out_of_scope(material.request))
            agents = [agent for agent in agents if agent != "medical" and named.get(agent)]
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
        hits = keyword_hits(language.URL.sub(" ", material.clauses[0]))
        named = [name for name, count in hits.items() if count]
        if len(named) != 1 or not material.feasible.get(named[0]):
            return None
        agent = named[0]
        # Material another agent could work on (a page, another file) means the request may want it too.
        others = [name for name, ok in material.feasible.items() if ok and name != agent]
        return None if others else agent

    def _from_clauses(self, clauses: list[str], scored: list, material: Material) -> list[str]:
        hits_per_clause = [keyword_hits(clause) for clause in clauses]
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
            if best == "browser" and not language.urls(clause) and "browser" in agents:
                continue
            agents.append(best)
            if best == "browser":
                agents += self._follower(clause, scores)
        return list(dict.fromkeys(agents))

    @staticmethod
    def _follower(clause: str, scores) -> list[str]:
        """One clause can both name a page and ask for work on it: "clean the table on <url>".
        What the page holds ("the reviews on <url>") is not yet a request to score it."""
        bare = language.URL.sub(" ", clause)
        hits = keyword_hits(language.without_material_nouns(bare))
        named_material_only = {name for name, count in keyword_hits(bare).items() if count and not hits.get(name)}

        def margin(name: str) -> float:
            return 0.1 if hits.get(name) else 0.4 if name in named_material_only else 0.15

        candidates = [name for name in ("csv", "sentiment")
                      if scores.agent_scores[name] > scores.similarity[NONE] + margin(name)]
        return candidates[:1]

    def _by_files(self, files: list[FileRef], material: Material, scored) -> list[str]:
        """Nothing in the wording: attached files decide, unless the request is plainly about something else."""
        if not files:
            return []
        if not material.vague and all(s.similarity[NONE] > max(s.agent_scores.values()) + 0.05 for s in scored):
            return []
        agents = [AGENT_FOR_FILE.get(ref.media_type) for ref in files]
        return list(dict.fromkeys(agent for agent in agents if agent in self.catalog))

    def _plan(self, task_id: str, material: Material, files: list[FileRef], params: dict, agents: list[str]) -> Plan:
        request = material.request
        steps: list[PlanStep] = []
        claimed: set[str] = set()
        for index, agent in enumerate(agents):
            step_id = f"s{index + 1}"
            spec = self.catalog[agent]
            source = None if material.brings_own(agent) else self._upstream(steps, spec)
            inputs: list = []
            depends_on: list[str] = []
            if source is not None:
                output = next(name for name in self.catalog[source.agent].produces if name in spec.consumes)
                inputs.append(StepOutputInput(step=source.id, output=output))
                depends_on.append(source.id)
            else:
                mine = [ref for ref in files if ref.media_type in spec.accepts and ref.key not in claimed]
                claimed |= {ref.key for ref in mine if agent in ("csv", "medical")}
                inputs += [FileInput(file=ref) for ref in mine]
            step_params = {key: value for key, value in params.items() if key != "agent"}
            step_params = self.extract(agent, request, has_input=bool(inputs)) | step_params
            steps.append(PlanStep(id=step_id, agent=agent, instruction=request, inputs=inputs,
                                  depends_on=depends_on, params=step_params))
        return Plan(task_id=task_id, planner=self.name, steps=steps)

    def _upstream(self, steps: list[PlanStep], spec: AgentSpec) -> PlanStep | None:
        """The latest earlier step whose output this agent reads (browser -> csv -> sentiment)."""
        for step in reversed(steps):
            if set(self.catalog[step.agent].produces) & set(spec.consumes):
                return step
        return None

    @staticmethod
    def extract(agent: str, request: str, has_input: bool) -> dict:
        """Parameters read off the request for one agent's step (the OpenAI planner uses them too)."""
        found: dict = {}
        if agent == "browser":
            addresses = language.urls(request)
            if addresses:
                found["url"] = addresses[0]
        elif agent == "sentiment":
            texts = language.quoted(request)
            if texts and not has_input:
                found["text"] = texts[0]
            columns = language.columns(request)
            if columns:
                found["column"] = columns[-1]
        elif agent == "medical":
            patient = patient_from_text(request)
            found |= {key: value for key, value in patient.model_dump(exclude={"source"}).items() if value is not None}
        return found

    def _readable(self) -> set[str]:
        return {media_type for spec in self.catalog.values() for media_type in spec.accepts}

    def _usable(self, files: list[FileRef]) -> bool:
        return any(ref.media_type in self._readable() for ref in files)

    def _nothing(self, task_id: str, explanation: str) -> Plan:
        return Plan(task_id=task_id, planner=self.name, steps=[], explanation=explanation)
