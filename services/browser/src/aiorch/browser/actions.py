"""From an instruction to browser actions (kept as the stable import path; the parser lives in plan.py)."""

from .plan import URL, Action, BrowsePlan, Target, parse

__all__ = ["URL", "Action", "BrowsePlan", "Target", "parse"]
