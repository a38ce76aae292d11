import os
import tempfile
import time
from pathlib import Path

import pytest

from aiorch.runtime.local import LocalSystem, free_port

ARTIFACTS = Path(os.environ.get("AIORCH_TEST_ARTIFACTS", "test-artifacts"))
KEY = "ui-test-key-0123456789abcdef"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def ui_system():
    """The whole system with the UI, for the tests of this folder."""
    with tempfile.TemporaryDirectory(prefix="aiorch-ui-") as root:
        system = LocalSystem(Path(root), ARTIFACTS / "logs" / "ui", KEY, ui_port=free_port(),
                             AIORCH_MAX_UPLOAD_BYTES=str(4 * 1024 * 1024)).start()
        yield system
        system.stop()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: `make test` installs it with apt-get when run as root "
                    "(or: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield launched
        launched.close()


@pytest.fixture
def server_messages() -> list[float]:
    """When (time.monotonic()) the page received each message from the Streamlit server."""
    return []


@pytest.fixture
def page(browser, ui_system, request, server_messages):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    opened.on("websocket", lambda socket: socket.on("framereceived",
                                                     lambda _: server_messages.append(time.monotonic())))
    opened.goto(f"http://127.0.0.1:{ui_system.ui_port}")
    yield opened
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(shots / f"{request.node.name}.png"), full_page=True)
    context.close()
