from aiorch.runtime.agent import run_agent

from .app import CsvService


def main() -> None:
    run_agent(CsvService)


if __name__ == "__main__":
    main()
