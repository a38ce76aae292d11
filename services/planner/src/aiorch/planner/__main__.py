import asyncio

from aiorch.runtime.service import run_until_signalled
from aiorch.runtime.settings import load_settings

from .app import PlannerService
from .config import PlannerSettings


def main() -> None:
    service = PlannerService(load_settings(PlannerSettings))
    asyncio.run(run_until_signalled(service.start, service.stop))


if __name__ == "__main__":
    main()
