"""The Streamlit script through Streamlit's AppTest, against a real gateway (or none)."""

import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from aiorch.runtime.local import free_port

APP = str(Path(__file__).resolve().parents[2] / "services" / "ui" / "src" / "aiorch" / "ui" / "app.py")
pytestmark = pytest.mark.e2e


def app(monkeypatch, url: str, key: str) -> AppTest:
    monkeypatch.setenv("AIORCH_UI_GATEWAY_URL", url)
    monkeypatch.setenv("AIORCH_UI_API_KEY", key)
    st.cache_resource.clear()
    return AppTest.from_file(APP, default_timeout=30)


def test_a_gateway_that_is_down_shows_a_banner_not_a_stack_trace(monkeypatch):
    at = app(monkeypatch, f"http://127.0.0.1:{free_port()}", "any-key-0123456789abcdef").run()
    assert not at.exception
    assert "The gateway is not reachable" in at.error[0].value
    assert not at.text_area  # no form to fill while nothing can be sent


def test_a_wrong_key_is_explained(monkeypatch, ui_system):
    at = app(monkeypatch, ui_system.url, "wrong-key-0123456789abcdef").run()
    assert "refused this UI (401)" in at.error[0].value


def test_the_form_shows_accepted_types_and_limits_and_submits(monkeypatch, ui_system):
    at = app(monkeypatch, ui_system.url, ui_system.key).run()
    assert "Accepted: image/heic, image/heif, image/jpeg, image/png" in at.caption[1].value
    assert "text/csv, text/plain" in at.caption[1].value and "up to 4.0 MB per file" in at.caption[1].value
    at.text_area[0].input('What is the sentiment of "what a lovely day"?')
    at.button(key="FormSubmitter:compose-Submit").click().run()
    task_id = at.session_state.task_id
    assert task_id.startswith("t_")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "completed" not in " ".join(m.value for m in at.markdown):
        time.sleep(0.3)
        at.run()
    text = " ".join(m.value for m in at.markdown)
    assert f"Task `{task_id}` · **completed**" in text and "**Sentiment: positive**" in text


def test_show_plan_is_a_dry_run(monkeypatch, ui_system):
    at = app(monkeypatch, ui_system.url, ui_system.key).run()
    at.text_area[0].input("write me a poem")
    at.button(key="FormSubmitter:compose-Show plan").click().run()
    assert "nothing was run" in " ".join(m.value for m in at.markdown)
    assert "aiorch can do" in at.info[0].value
    assert "task_id" not in at.session_state


def test_the_event_stream_resumes_after_a_gateway_restart(ui_system):
    from aiorch.ui.events import EventFollower

    rows = "text\n" + "\n".join(f"review {n} was good and bad" for n in range(40_000))
    task_id = ui_system.submit("sentiment of the text column", files={"r.csv": rows.encode()})
    follower = EventFollower(f"ws://127.0.0.1:{ui_system.gateway_port}", ui_system.key, task_id)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(e["type"] == "step_started" for e in follower.snapshot()):
        time.sleep(0.1)
    ui_system.services["gateway"].stop()
    ui_system.start_service("aiorch.gateway", health_port=ui_system.gateway_port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not follower.finished:
        time.sleep(0.2)
    events = follower.snapshot()
    assert events[-1]["type"] == "completed"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # nothing lost, nothing twice


def test_a_medical_result_shows_the_disclaimer_the_top_classes_and_the_heatmap(monkeypatch, ui_system):
    from aiorch.medical.synth import jpeg, lesion_photo

    task_id = ui_system.submit("is this mole dangerous?", files={"mole.jpg": jpeg(lesion_photo(8))})
    at = app(monkeypatch, ui_system.url, ui_system.key)
    at.session_state.task_id = task_id
    at.run()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not at.table:
        time.sleep(0.3)
        at.run()
    assert not at.exception
    assert "This is not a diagnosis" in at.warning[0].value
    classes = at.table[0].value
    assert len(classes) == 3 and list(classes.columns) == ["class", "probability", "counted as"]
    assert len(at.image) == 1 and at.image[0].value, "the Grad-CAM overlay is shown"
