"""`python -m aiorch.ui`: Streamlit serving app.py with the host and port from the settings."""

import sys
from pathlib import Path

from pydantic import ValidationError

from .config import UiSettings


def upload_limit_mb(settings: UiSettings) -> int:
    """A little over the gateway's per-file limit, so that the page itself explains a refusal."""
    from .client import GatewayClient

    try:
        limit = GatewayClient(settings.gateway_url, settings.api_key.get_secret_value(), timeout=5).limits()
        return limit["max_upload_bytes"] // (1024 * 1024) + 2
    except Exception:
        return 200


def main() -> None:
    from streamlit.web import cli

    try:
        settings = UiSettings()
    except ValidationError as exc:
        names = ", ".join(f"AIORCH_UI_{'.'.join(map(str, e['loc'])).upper()} ({e['msg']})" for e in exc.errors())
        print(f"UiSettings: invalid configuration: {names}", file=sys.stderr)
        raise SystemExit(2) from None
    sys.argv = [
        "streamlit", "run", str(Path(__file__).with_name("app.py")),
        "--server.address", settings.host, "--server.port", str(settings.port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--server.maxUploadSize", str(upload_limit_mb(settings)), "--global.developmentMode", "false",
    ]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
