from aiorch.runtime.agent import run_agent

from .app import BrowserService


def main() -> None:
    run_agent(BrowserService)


if __name__ == "__main__":
    main()
