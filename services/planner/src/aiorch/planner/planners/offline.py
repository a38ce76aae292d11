"""Offline planner (the default): a request split into clauses, each routed to an agent by
sentence embeddings and keyword evidence, checked against what is attached, and joined
into a DAG where data flows (browser -> csv -> sentiment) and parallel where it does not.

No network; a few milliseconds per request once the embedding model is loaded.
"""

import asyncio

from aiorch.contracts import CATALOG, AgentSpec, FileInput, FileRef, Plan, PlanStep, StepOutputInput
from aiorch.contracts.patient import from_text as patient_from_text

from . import language
from .routing import NONE, embedder, has_request_verb, keyword_hits, score_clauses

IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"}
TABLE_TYPES = {"text/csv", "text/tab-separated-values"}
MARGIN = 0.02
"""How much an agent must beat the closest out-of-scope example by."""


def capabilities(catalog: dict[str, AgentSpec] = CATALOG) -> str:
    return "; ".join(f"{spec.title.lower()} ({spec.description})" for spec in catalog.values())


class OfflinePlanner:
    name = "offline"

    def __init__(self, catalog: dict[str, AgentSpec] = CATALOG) -> None:
        self.catalog = catalog

    async def plan(self, task_id: str, request: str, files: list[FileRef], params: dict) -> Plan:
        return await asyncio.to_thread(self.plan_now, task_id, request, files, params)

    @staticmethod
    def warm() -> None:
        """Load the embedding model now rather than on the first request (a few seconds)."""
        embedder()

    def plan_now(self, task_id: str, request: str, files: list[FileRef], params: dict) -> Plan:
        forced = params.get("agent")
        if isinstance(forced, str) and forced in self.catalog:
            return self._plan(task_id, request, files, params, [forced])
        if language.is_unsafe(request):
            return self._nothing(task_id, "aiorch does not act on instructions to change its rules or to delete, "
                                          f"reveal or run anything. aiorch can do: {capabilities(self.catalog)}.")
        about_unreadable_files = files and not self._usable(files) and not language.quoted(request)
        agents = [] if about_unreadable_files or language.impossible(request) else self.route(request, files)
        if not agents:
            types = sorted({ref.media_type for ref in files} - self._readable())
            told = f"No agent reads {', '.join(types)}. " if types and not self._usable(files) else ""
            return self._nothing(task_id, f"{told}No agent can serve this request. aiorch can do: "
                                          f"{capabilities(self.catalog)}.")
        return self._plan(task_id, request, files, params, agents)

    def route(self, request: str, files: list[FileRef]) -> list[str]:
        """The agents the request needs, in the order it asks for them."""
        addresses = language.urls(request)
        images = [ref for ref in files if ref.media_type in IMAGE_TYPES]
        tables = [ref for ref in files if ref.media_type in TABLE_TYPES]
        texts = [ref for ref in files if ref.media_type == "text/plain"]
        evidence = {
            "browser": 0.15 if addresses else -0.6,
            "medical": 0.1 if images else -0.6,
            "csv": 0.1 if tables else (0.0 if addresses else -0.35),
            "sentiment": 0.05 if (texts or language.quoted(request)) else (-0.3 if images and not tables else 0.0),
        }
        # What each agent needs to have something to work on: an address, a photo, a table, a text.
        feasible = {
            "browser": bool(addresses),
            "medical": bool(images),
            "csv": bool(tables or addresses),
            "sentiment": bool(texts or tables or addresses or language.quoted(request) or language.has_inline_text(request)),
        }
        clauses = language.split_clauses(request, has_request_verb) or [request]
        per_clause = [evidence | ({"browser": 0.15 if language.urls(clause) else 0.0} if addresses else {})
                      for clause in clauses]
        scored = score_clauses(clauses, per_clause)
        hits_per_clause = [keyword_hits(clause) for clause in clauses]
        agents: list[str] = []
        for clause, scores, hits in zip(clauses, scored, hits_per_clause):
            if not any(hits.values()) and any(any(other.values()) for other in hits_per_clause):
                continue  # context ("for each response in column q3"), not a request of its own
            candidates = [name for name in scores.agent_scores if feasible.get(name, True)]
            if not candidates:
                continue
            best = max(candidates, key=scores.agent_scores.get)
            if scores.agent_scores[best] < scores.similarity[NONE] + MARGIN:
                continue
            if best == "browser" and not language.urls(clause) and "browser" in agents:
                continue
            if not agents or agents[-1] != best:
                agents.append(best)
            if best == "browser":
                agents += self._follower(clause, scores)
        agents = [agent for agent in dict.fromkeys(agents)]
        if language.out_of_scope(request):
            # An x-ray, audio, a PDF, a translation: only an agent the wording names outright stays.
            named = keyword_hits(language.without_out_of_scope(request))
            agents = [agent for agent in agents if agent != "medical" and named.get(agent)]
            if not agents:
                return []
        if not agents:
            agents = self._by_files(files, request, scored)
        agents = [agent for agent in agents if feasible.get(agent, True)]
        if addresses and "browser" not in agents and not files:
            agents.insert(0, "browser")
        if addresses and "browser" in agents and agents[0] != "browser" and agents[0] in ("csv", "sentiment"):
            agents.remove("browser")
            agents.insert(0, "browser")
        if {"csv", "sentiment"} <= set(agents) and agents.index("sentiment") < agents.index("csv"):
            # A table is cleaned before its texts are scored: (browser ->) csv -> sentiment.
            agents.remove("csv")
            agents.insert(agents.index("sentiment"), "csv")
        return agents

    @staticmethod
    def _follower(clause: str, scores) -> list[str]:
        """One clause can both name a page and ask for work on it: "clean the table on <url>"."""
        hits = keyword_hits(language.URL.sub(" ", clause))
        candidates = [name for name in ("csv", "sentiment")
                      if hits.get(name) and scores.agent_scores[name] > scores.similarity[NONE] + 0.1]
        return candidates[:1]

    def _by_files(self, files: list[FileRef], request: str, scored) -> list[str]:
        """Nothing in the wording: attached files decide, unless the request is plainly about something else."""
        if not files or all(s.similarity[NONE] > max(s.agent_scores.values()) + 0.05 for s in scored):
            return []
        agents = []
        for ref in files:
            if ref.media_type in IMAGE_TYPES:
                agents.append("medical")
            elif ref.media_type in TABLE_TYPES:
                agents.append("csv")
            elif ref.media_type == "text/plain":
                agents.append("sentiment")
        return list(dict.fromkeys(agent for agent in agents if agent in self.catalog))

    def _plan(self, task_id: str, request: str, files: list[FileRef], params: dict, agents: list[str]) -> Plan:
        steps: list[PlanStep] = []
        claimed: set[str] = set()
        for index, agent in enumerate(agents):
            step_id = f"s{index + 1}"
            spec = self.catalog[agent]
            source = self._upstream(steps, spec)
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
