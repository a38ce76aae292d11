"""Medical agent figures: per-image time and memory of the service's PyTorch model beside
sklesion's own Keras model (Keras 3 on its torch backend) on the same photos, each in its own
process on one thread; and the out-of-scope guard's acceptance and refusal rates."""

import json
import subprocess
import sys
from pathlib import Path

MODEL = Path(__file__).resolve().parents[1] / ".data" / "models" / "sklesion"
IMAGES = 40

OURS = """
import json, resource, sys, time
import torch
torch.set_num_threads(1)
from pathlib import Path
from aiorch.contracts import PatientInfo
from aiorch.medical.classify import classify_photo
from aiorch.medical.models import load_model
from aiorch.medical.synth import jpeg, lesion_photo
model = load_model(Path(sys.argv[1]))
photos = [jpeg(lesion_photo(500 + i)) for i in range(int(sys.argv[2]))]
patient = PatientInfo(age=54, sex="male", location="trunk")
def run(explain):
    times = []
    for data in photos:
        start = time.perf_counter()
        classify_photo(model, data, "p.jpg", patient, explain=explain, max_pixels=40_000_000,
                       save_heatmap=lambda name, png: None)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]
run(False)
plain, explained = run(False), run(True)
print(json.dumps({"plain": plain, "explained": explained,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

KERAS = """
import json, os, resource, sys, tempfile, time
os.environ["KERAS_BACKEND"] = "torch"
import torch
torch.set_num_threads(1)
import keras, numpy as np
from pathlib import Path
from aiorch.medical.convert import fetch_keras_model
from aiorch.medical.images import load_rgb
from aiorch.medical.synth import jpeg, lesion_photo
model = keras.saving.load_model(fetch_keras_model(Path(tempfile.mkdtemp())), compile=False)
photos = [jpeg(lesion_photo(500 + i)) for i in range(int(sys.argv[2]))]
meta = np.array([[0, 1, 0, 0, 0, 0, 1, 0, 0.6, 0]], dtype=np.float32)
def run():
    times = []
    for data in photos:
        start = time.perf_counter()
        image, _ = load_rgb(data, "p.jpg")
        pixels = keras.ops.image.resize(np.asarray(image, dtype=np.float32)[None], (254, 254),
                                        interpolation="bilinear", antialias=False)
        model.predict([keras.ops.convert_to_numpy(pixels), meta], verbose=0)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]
run()
print(json.dumps({"plain": run(), "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _measure(script: str) -> dict:
    done = subprocess.run([sys.executable, "-c", script, str(MODEL), str(IMAGES)], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def latency() -> tuple[dict, dict]:
    return _measure(OURS), _measure(KERAS)


def guard_sets():
    """(category, is_lesion, images): synthetic lesions, scikit-image's sample photos, generated pages."""
    import numpy as np
    from PIL import Image
    from skimage import data as samples

    from aiorch.medical.synth import document_page, lesion_photo, screenshot, xray

    photos = []
    for name in ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
                 "colorwheel", "logo", "camera", "coins", "moon", "page", "text", "brick", "grass", "gravel",
                 "horse", "clock", "cell", "microaneurysms", "checkerboard"]:
        array = getattr(samples, name)()
        if array.dtype == bool:
            array = array.astype(np.uint8) * 255
        if array.ndim == 3 and array.shape[2] == 4:
            array = array[..., :3]
        photos.append(Image.fromarray(array).convert("RGB"))
    photos += [Image.fromarray(frame) for frame in samples.stereo_motorcycle()[:2]]
    return [
        ("synthetic lesion close-ups", True, [lesion_photo(1000 + seed) for seed in range(60)]),
        ("scikit-image sample photos (portrait, cat, street, fundus...)", False, photos),
        ("documents", False, [document_page(seed) for seed in range(20)]),
        ("screenshots", False, [screenshot(seed) for seed in range(20)]),
        ("x-ray-like grayscale", False, [xray(seed).convert("RGB") for seed in range(20)]),
    ]


def guard_rates():
    from aiorch.medical.guard import refusal_reason

    for category, is_lesion, images in guard_sets():
        refused = sum(refusal_reason(image) is not None for image in images)
        yield category, is_lesion, len(images), refused
