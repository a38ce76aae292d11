"""aiorch.planner: task planner (offline or LLM) and the orchestrator that runs plans."""
