"""Offline planner: routes a request to one agent from attached file types and wording.

It needs no network and answers in microseconds. Agents and their vocabulary come
from the contracts' catalog.
"""

import re

from aiorch.contracts import CATALOG, AgentSpec, FileInput, FileRef, Plan, PlanStep, StepOutputInput

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


def capabilities(catalog: dict[str, AgentSpec] = CATALOG) -> str:
    return "; ".join(f"{spec.title.lower()} ({spec.description})" for spec in catalog.values())


class OfflinePlanner:
    name = "offline"

    def __init__(self, catalog: dict[str, AgentSpec] = CATALOG) -> None:
        self.catalog = catalog

    async def plan(self, task_id: str, request: str, files: list[FileRef], params: dict) -> Plan:
        return self.plan_now(task_id, request, files, params)

    def plan_now(self, task_id: str, request: str, files: list[FileRef], params: dict) -> Plan:
        words = [word.lower() for word in _WORD.findall(request)]
        hits = {name: self._keyword_hits(spec, words) for name, spec in self.catalog.items()}
        forced = params.get("agent")
        if not files and _URL.search(request) and "browser" in self.catalog and not forced:
            return self._web_chain(task_id, request, hits, params)
        if isinstance(forced, str) and forced in self.catalog:
            agent = forced
        elif files:
            agent = self._agent_for_files(files, hits)
            if agent is None:
                types = ", ".join(sorted({ref.media_type for ref in files}))
                return self._nothing(task_id, f"No agent reads {types}. aiorch can do: {capabilities(self.catalog)}.")
        else:
            best = max(hits, key=hits.get, default=None)
            if best is None or hits[best] == 0:
                return self._nothing(
                    task_id, f"No agent can serve this request. aiorch can do: {capabilities(self.catalog)}."
                )
            agent = best
        accepted = set(self.catalog[agent].accepts)
        inputs = [FileInput(file=ref) for ref in files if ref.media_type in accepted]
        step_params = {key: value for key, value in params.items() if key != "agent"}
        step = PlanStep(id="s1", agent=agent, instruction=request, inputs=inputs, params=step_params)
        return Plan(task_id=task_id, planner=self.name, steps=[step])

    def _web_chain(self, task_id: str, request: str, hits: dict[str, int], params: dict) -> Plan:
        """A web address: the browser reads the page; an agent the wording also asks for
        works on what the browser extracted (texts for sentiment, tables for csv)."""
        browser = self.catalog["browser"]
        steps = [PlanStep(id="s1", agent="browser", instruction=request, params=dict(params))]
        followers = sorted(
            (name for name, spec in self.catalog.items()
             if name != "browser" and hits[name] and set(spec.consumes) & set(browser.produces)),
            key=lambda name: -hits[name],
        )
        if followers:
            follower = self.catalog[followers[0]]
            output = next(name for name in browser.produces if name in follower.consumes)
            steps.append(PlanStep(id="s2", agent=follower.name, instruction=request, depends_on=["s1"],
                                  inputs=[StepOutputInput(step="s1", output=output)]))
        return Plan(task_id=task_id, planner=self.name, steps=steps)

    def _agent_for_files(self, files: list[FileRef], hits: dict[str, int]) -> str | None:
        candidates = [
            name for name, spec in self.catalog.items() if any(ref.media_type in spec.accepts for ref in files)
        ]
        if not candidates:
            return None
        # Most keyword hits wins; on a tie, the agent for which the file type comes first
        # in its `accepts` (a CSV is first of all the csv agent's).
        def rank(name: str) -> tuple[int, int]:
            accepts = self.catalog[name].accepts
            position = min(accepts.index(ref.media_type) for ref in files if ref.media_type in accepts)
            return hits[name], -position

        return max(candidates, key=rank)

    @staticmethod
    def _keyword_hits(spec: AgentSpec, words: list[str]) -> int:
        return sum(1 for word in words if any(word.startswith(stem) for stem in spec.keywords))

    def _nothing(self, task_id: str, explanation: str) -> Plan:
        return Plan(task_id=task_id, planner=self.name, steps=[], explanation=explanation)
