"""The medical service on a real nats-server and object store, with the converted model."""

import io
import itertools

import pytest
from PIL import Image

from aiorch.contracts import StepRequested, subjects
from aiorch.medical.app import MedicalService
from aiorch.medical.config import MedicalSettings
from aiorch.medical.synth import document_page, jpeg, lesion_photo
from aiorch.runtime.testing import StepResults

pytestmark = pytest.mark.nats
STEPS = itertools.count(1)


@pytest.fixture
async def service(nats_server, tmp_path, model_folder):
    created = []

    async def start(**overrides) -> MedicalService:
        overrides.setdefault("MEDICAL_MODEL", model_folder)
        settings = MedicalSettings(nats_url=nats_server.url, storage_path=tmp_path / "objects", log_json=False,
                                   **overrides)
        created.append(MedicalService(settings))
        await created[-1].start()
        return created[-1]

    yield start
    for running in created:
        await running.stop()


async def run(bus, service, files: dict[str, tuple[bytes, str]], instruction="classify this", params=None):
    results = await StepResults(bus).start()
    refs = [service.store.put(f"uploads/t_1/{name}", name, data, media_type)
            for name, (data, media_type) in files.items()]
    request = StepRequested(task_id="t_1", step_id=f"s{next(STEPS)}", attempt=1, agent="medical",
                            instruction=instruction, files=refs, params=params or {})
    await bus.publish(subjects.agent_requests("medical"), request)
    return await results.next(timeout=60)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def test_a_lesion_photo_gets_probabilities_a_heatmap_and_the_disclaimer(service, bus):
    agent = await service()
    result = await run(bus, agent, {"mole.jpg": (jpeg(lesion_photo(1)), "image/jpeg")},
                       "is this mole dangerous? 54 year old male, lesion on the back")
    assert result.status == "completed", result.error
    output = result.output
    assert output.model == "sklesion==0.2.2" and output.disclaimer.startswith("This is not a diagnosis")
    assert (output.patient.age, output.patient.sex, output.patient.location) == (54, "male", "trunk")
    image = output.images[0]
    assert image.status == "classified" and len(image.probabilities) == 7 and len(image.top) == 3
    assert sum(item.probability for item in image.probabilities) == pytest.approx(1, abs=1e-4)
    assert image.top[0].probability >= image.top[1].probability >= image.top[2].probability
    assert {item.name for item in image.probabilities} >= {"Melanoma", "Melanocytic nevus", "Basal cell carcinoma"}
    malignant = sum(item.probability for item in image.probabilities if item.severity == "malignant")
    assert image.malignant_probability == pytest.approx(malignant, abs=1e-5)
    assert image.leaning == ("malignant" if malignant >= 0.5 else "benign")
    heatmap = Image.open(io.BytesIO(agent.store.get(image.heatmap.key)))
    assert heatmap.format == "PNG" and heatmap.size == (450, 450)
    assert [ref.name for ref in result.artifacts] == ["mole.gradcam.png"]
    assert "not a diagnosis" in result.summary and image.top[0].name in result.summary


async def test_several_photos_in_one_step_and_a_refused_one_among_them(service, bus):
    agent = await service()
    result = await run(bus, agent, {
        "a.jpg": (jpeg(lesion_photo(2)), "image/jpeg"),
        "b.png": (png(lesion_photo(3)), "image/png"),
        "scan.png": (png(document_page(0)), "image/png"),
    }, params={"age": 40, "sex": "female", "location": "arm"})
    assert result.status == "completed"
    statuses = {image.file: image.status for image in result.output.images}
    assert statuses == {"a.jpg": "classified", "b.png": "classified", "scan.png": "refused"}
    assert "not a skin-lesion photo" in result.output.images[2].refusal
    assert result.output.patient.source == "params"


async def test_metadata_changes_the_answer(service, bus):
    agent = await service(heatmaps=False)
    photo = {"a.jpg": (jpeg(lesion_photo(4)), "image/jpeg")}
    young = await run(bus, agent, photo, params={"age": 15, "sex": "female", "location": "leg"})
    old = await run(bus, agent, photo, params={"age": 85, "sex": "male", "location": "face"})
    assert young.output.images[0].probabilities != old.output.images[0].probabilities
    assert young.output.images[0].heatmap is None


@pytest.mark.parametrize(
    "files, params, code, words",
    [
        ({"doc.png": (png(document_page(2)), "image/png")}, {}, "not_classified", "screenshot, a document"),
        ({"x.jpg": (b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg")}, {}, "not_classified", "corrupt"),
        ({"notes.txt": (b"hello", "text/plain")}, {}, "no_image", "notes.txt is not an image"),
        ({"a.jpg": (jpeg(lesion_photo(5)), "image/jpeg")}, {"age": 400}, "invalid_patient", "between 0 and 120"),
    ],
    ids=["document", "corrupt", "no-image", "bad-age"],
)
async def test_bad_input_fails_the_step_clearly_and_the_service_keeps_serving(service, bus, files, params, code, words):
    agent = await service(heatmaps=False)
    result = await run(bus, agent, files, params=params)
    assert result.status == "failed" and result.error.code == code and words in result.error.message
    again = await run(bus, agent, {"a.jpg": (jpeg(lesion_photo(6)), "image/jpeg")})
    assert again.status == "completed"


async def test_a_transformers_checkpoint_in_a_folder_is_used_instead(service, bus, tmp_path):
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    folder = tmp_path / "tiny-vit"
    labels = ["benign-ish", "mel", "nv"]
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=64, num_labels=3, id2label=dict(enumerate(labels)),
                       label2id={label: index for index, label in enumerate(labels)})
    ViTForImageClassification(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    agent = await service(MEDICAL_MODEL=folder)
    result = await run(bus, agent, {"a.jpg": (jpeg(lesion_photo(7)), "image/jpeg")}, "54 year old male")
    assert result.status == "completed", result.error
    image = result.output.images[0]
    assert result.output.model == "transformers:tiny-vit" and [p.code for p in image.probabilities] == labels
    assert [p.severity for p in image.probabilities] == ["unknown", "malignant", "benign"]
    assert image.heatmap is None and image.leaning == "unknown" and result.output.patient.age is None
    assert "not a diagnosis" in result.output.disclaimer
