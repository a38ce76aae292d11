from aiorch.runtime.agent import run_agent

from .app import MedicalService


def main() -> None:
    run_agent(MedicalService)


if __name__ == "__main__":
    main()
