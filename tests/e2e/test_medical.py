"""The medical agent end to end: a photo uploaded with a question, probabilities, heatmap."""

import io

import pytest
from PIL import Image

from aiorch.medical.synth import document_page, jpeg, lesion_photo

from tests.conftest import ON_BOTH_BACKENDS

pytestmark = [pytest.mark.e2e, ON_BOTH_BACKENDS]


def test_a_lesion_photo_is_classified_and_its_heatmap_downloads(system):
    task_id = system.submit("is this mole dangerous? 62 year old woman, on the shoulder",
                            files={"mole.jpg": jpeg(lesion_photo(21))})
    events = system.events(task_id)
    assert events[-1]["type"] == "completed", events[-1]
    assert events[1]["plan"]["steps"][0]["agent"] == "medical"
    output = system.task(task_id)["steps"]["s1"]["result"]["output"]
    # The planner read the patient off the request into the step's parameters.
    assert events[1]["plan"]["steps"][0]["params"] == {"age": 62.0, "sex": "female", "location": "arm"}
    assert output["patient"] == {"age": 62.0, "sex": "female", "location": "arm", "source": "params"}
    image = output["images"][0]
    assert image["status"] == "classified" and len(image["top"]) == 3
    heatmap = system.http.get(f"/v1/tasks/{task_id}/artifacts/mole.gradcam.png")
    assert heatmap.status_code == 200 and Image.open(io.BytesIO(heatmap.content)).format == "PNG"
    assert "not a diagnosis" in events[-1]["answer"]


def test_a_photo_that_is_not_of_skin_fails_the_task_with_the_reason(system):
    buffer = io.BytesIO()
    document_page(3).save(buffer, "PNG")
    task_id = system.submit("what skin lesion is this?", files={"letter.png": buffer.getvalue()})
    events = system.events(task_id)
    assert [e["type"] for e in events][-2:] == ["step_failed", "failed"]
    assert "not a skin-lesion photo" in events[-2]["error"]["message"]
