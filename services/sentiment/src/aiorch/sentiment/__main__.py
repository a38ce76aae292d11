from aiorch.runtime.agent import run_agent

from .app import SentimentService


def main() -> None:
    run_agent(SentimentService)


if __name__ == "__main__":
    main()
