import uvicorn

from aiorch.runtime.settings import load_settings

from .config import GatewaySettings
from .main import create_app


def main() -> None:
    settings = load_settings(GatewaySettings)
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, log_level="warning", access_log=False,
        ws_ping_interval=20,
    )


if __name__ == "__main__":
    main()
