"""Planner backends behind one interface (`PlannerBackend`)."""

from .base import PlannerBackend
from .offline import OfflinePlanner

__all__ = ["OfflinePlanner", "PlannerBackend"]
