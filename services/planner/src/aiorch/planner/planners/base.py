from typing import Protocol

from aiorch.contracts import FileRef, Plan


class PlannerBackend(Protocol):
    name: str

    async def plan(self, task_id: str, request: str, files: list[FileRef], params: dict) -> Plan:
        """A validated plan; an empty one with an explanation when no agent fits."""
        ...
