from aiorch.runtime.logs import get_logger

log = get_logger("aiorch.planner")
