"""The medical evaluation's plumbing (the figures themselves come from `make eval`)."""

import types

from evals import medical_isic


def test_without_the_shared_photos_the_evaluation_says_it_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("AIORCH_SHARED_DATA", str(tmp_path))
    rows = medical_isic.evaluate(types.SimpleNamespace(quick=True))
    assert [(row.agent, row.cases, row.score) for row in rows] == [("medical", 0, "skipped (no data)")]


def test_the_dev_and_held_out_halves_are_disjoint_and_balanced(tmp_path):
    from aiorch.medical.references import CLASSES, by_split, dermoscopy

    folder = tmp_path / "isic2018-dev"
    folder.mkdir()
    lines = ["file,image_id,dx"] + [f"p{code}{index}.jpg,p{code}{index},{code}" for code in CLASSES for index in range(4)]
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    photos = dermoscopy(tmp_path)
    dev, held = list(by_split(photos, "dev")), list(by_split(photos, "held-out"))
    assert {p.name for p in dev}.isdisjoint({p.name for p in held}) and len(dev) == len(held) == 14
    assert all(sum(p.label == code for p in dev) == 2 for code in CLASSES)


def test_the_confusion_matrix_lists_refusals():
    text = medical_isic._matrix({"mel": {"mel": 3, "refused": 1}, "nv": {"nv": 2}}, ["mel", "nv", "refused"])
    assert text.splitlines()[1].split() == ["mel", "3", "0", "1"]
