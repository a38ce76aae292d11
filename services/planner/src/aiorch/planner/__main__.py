from aiorch.runtime.service import run_service
from aiorch.runtime.settings import load_settings

from .app import PlannerService
from .config import PlannerSettings


def main() -> None:
    service = PlannerService(load_settings(PlannerSettings))
    run_service(service.start, service.stop)


if __name__ == "__main__":
    main()
