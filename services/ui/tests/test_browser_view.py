"""The browser agent's result in the UI: its actions as a checklist, the final screenshot, its tables."""

import base64

from streamlit.testing.v1 import AppTest

from aiorch.contracts import BrowserOutput

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
SHOT = {"key": "artifacts/t_1/s1/screenshot.png", "name": "screenshot.png", "media_type": "image/png", "size": len(PNG),
        "sha256": "0" * 64}
TABLE = {"key": "artifacts/t_1/s1/table-1.csv", "name": "table-1.csv", "media_type": "text/csv", "size": 40,
         "sha256": "0" * 64}
OUTPUT = BrowserOutput.model_validate({
    "url": "http://shop.example/form", "title": "Order form", "main_text": "Welcome to the order form.",
    "items": ["first review", "second review"], "links": [{"text": "Home", "url": "http://shop.example/"}],
    "tables": [{"caption": "Prices", "header": ["Product", "Price"], "rows": 2, "file": TABLE}],
    "steps": [
        {"kind": "type", "description": "type 'Ann' into the field 'Name'", "status": "done", "target": "textbox 'Name'"},
        {"kind": "click", "description": "click the button 'Send'", "status": "not_done",
         "reason": "element not found", "candidates": ["button 'Submit'", "link 'Cancel'"]},
        {"kind": "read", "description": "read the page", "status": "skipped", "reason": "an earlier action failed"},
    ],
    "screenshot": SHOT, "pages_visited": 1,
}).model_dump(mode="json")
ARTIFACTS = {"s1/screenshot.png": PNG, "s1/table-1.csv": b"Product,Price\nTrail Shoe,10.00\nRain Jacket,25.50\n"}


def script(output: dict, artifacts: dict) -> None:
    from aiorch.ui import views

    class Client:
        def artifact(self, task_id: str, name: str) -> bytes:
            return artifacts[name]

    views.result({"id": "s1", "result": {"status": "failed", "output": output}}, "t_1", Client())


def render(output: dict, artifacts: dict = ARTIFACTS) -> AppTest:
    at = AppTest.from_function(script, args=(output, artifacts), default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def test_the_actions_are_a_checklist_with_the_reasons_and_candidates():
    at = render(OUTPUT)
    assert [box.value for box in at.checkbox] == [True, False, False]
    assert all(box.disabled for box in at.checkbox)
    labels = [box.label for box in at.checkbox]
    assert "type 'Ann' into the field 'Name'" in labels[0] and "textbox 'Name'" in labels[0]
    assert "click the button 'Send'" in labels[1] and "read the page" in labels[2]
    captions = " ".join(caption.value for caption in at.caption)
    assert "Not done: element not found" in captions and "button 'Submit', link 'Cancel'" in captions
    assert "Skipped: an earlier action failed" in captions
    assert "**Actions** (1 of 3 done)" in [markdown.value for markdown in at.markdown]
    assert not at.json  # no raw JSON instead of the view


def test_the_final_screenshot_and_the_tables_are_shown_and_the_text_is_collapsed():
    at = render(OUTPUT)
    assert len(at.image) == 1 and at.image[0].value, "the final screenshot is shown"
    table = at.dataframe[0].value
    assert list(table.columns) == ["Product", "Price"] and table.iloc[1].tolist() == ["Rain Jacket", "25.50"]
    assert [expander.label for expander in at.expander] == ["Extracted items (2)", "Page text", "Links (1)"]
    assert at.expander[1].text[0].value == "Welcome to the order form."


def test_a_missing_screenshot_does_not_hide_the_checklist():
    at = render(OUTPUT, {"s1/table-1.csv": ARTIFACTS["s1/table-1.csv"]})
    assert len(at.checkbox) == 3
    assert any("Screenshot unavailable" in caption.value for caption in at.caption)


def test_an_output_without_planned_actions_lists_what_was_done():
    older = {**OUTPUT, "steps": [], "actions": ["open http://shop.example/form", "screenshot"], "screenshot": None}
    at = render(older)
    assert [(box.label, box.value) for box in at.checkbox] == [("open http://shop.example/form", True),
                                                              ("screenshot", True)]
