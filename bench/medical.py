"""Medical agent figures: per-image time and memory of the service's PyTorch model (decode, guard,
test-time views, classify) beside sklesion's own Keras model (Keras 3 on its torch backend, one
view) on the same photos, each in its own process on one thread; and the out-of-scope guard's
rates on photos the calibration did not see (the held-out halves of references.py)."""

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
from aiorch.medical.references import dermoscopy
from aiorch.medical.synth import jpeg, lesion_photo
model = load_model(Path(sys.argv[1]))
photos = [p.data() for p in dermoscopy() if p.split == "held-out"][: int(sys.argv[2])]
photos = photos or [jpeg(lesion_photo(500 + i)) for i in range(int(sys.argv[2]))]
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
from aiorch.medical.references import dermoscopy
from aiorch.medical.synth import jpeg, lesion_photo
model = keras.saving.load_model(fetch_keras_model(Path(tempfile.mkdtemp())), compile=False)
photos = [p.data() for p in dermoscopy() if p.split == "held-out"][: int(sys.argv[2])]
photos = photos or [jpeg(lesion_photo(500 + i)) for i in range(int(sys.argv[2]))]
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


def real_photos() -> bool:
    from aiorch.medical.references import dermoscopy

    return bool(dermoscopy())


def guard_sets():
    """(category, is_lesion, [(name, jpeg bytes)]): held-out real dermoscopy, held-out real and generated
    non-lesion pictures, and generated plain skin and tattoos (which must get a warning or a refusal)."""
    from aiorch.medical.references import by_split, dermoscopy, non_lesion
    from aiorch.medical.synth import jpeg, lesion_photo, plain_skin, tattoo

    sets: dict[tuple[str, object], list] = {}
    for photo in by_split(dermoscopy(), "held-out"):
        sets.setdefault((f"{photo.category} (held-out)", True), []).append((photo.name, photo.data()))
    if not sets:
        sets[("synthetic lesion close-ups (no real photos here)", True)] = [
            (f"synthetic {seed}", jpeg(lesion_photo(1000 + seed))) for seed in range(20)]
    for photo in by_split(non_lesion(), "held-out"):
        sets.setdefault((f"{photo.category} (held-out)", False), []).append((photo.name, jpeg(photo.image(), 95)))
    sets[("generated plain skin", None)] = [(f"skin {seed}", jpeg(plain_skin(seed))) for seed in range(10)]
    sets[("generated tattoos", None)] = [(f"tattoo {seed}", jpeg(tattoo(seed))) for seed in range(10)]
    return [(category, kind, photos) for (category, kind), photos in sets.items()]


def guard_rates(model_folder: Path = MODEL):
    """(category, kind, total, refused, warned): kind True = lesions, False = not lesions, None = skin
    without a lesion; "warned" counts classified photos with an out-of-scope or no-lesion warning."""
    import torch

    from aiorch.contracts import PatientInfo
    from aiorch.medical.classify import classify_photo
    from aiorch.medical.models import load_model

    torch.set_num_threads(1)
    model = load_model(model_folder)
    for category, kind, photos in guard_sets():
        refused = warned = 0
        for name, data in photos:
            result = classify_photo(model, data, name, PatientInfo(), explain=False, max_pixels=40_000_000,
                                    save_heatmap=lambda name, png: None)
            refused += result.status == "refused"
            warned += result.status == "classified" and any(
                "out-of-scope" in warning or "no distinct lesion" in warning for warning in result.warnings)
        yield category, kind, len(photos), refused, warned
