"""The labelled request set (tests/data/requests.jsonl) and its grading, shared by the
quality test and `make bench`."""

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from aiorch.contracts import FileRef

DATA = Path(__file__).parent / "data" / "requests.jsonl"
MEDIA_TYPES = {"csv": "text/csv", "tsv": "text/tab-separated-values", "txt": "text/plain", "jpg": "image/jpeg",
               "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heic": "image/heic",
               "pdf": "application/pdf", "mp3": "audio/mpeg", "mov": "video/quicktime"}


def cases() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]


def attached(names: list[str]) -> list[FileRef]:
    return [FileRef(key=f"uploads/t_1/{name}", name=name, media_type=MEDIA_TYPES[name.rsplit(".", 1)[1].lower()], size=100,
                    sha256="0" * 64) for name in names]


@dataclass
class Grade:
    per_category: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    misses: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        right = sum(value[0] for value in self.per_category.values())
        return right / sum(value[1] for value in self.per_category.values())

    refusals: list[bool] = field(default_factory=list)
    """For each nothing-to-do request (injections included): did it get an empty plan?"""

    def refused(self) -> float:
        return sum(self.refusals) / len(self.refusals)


def grade(planner) -> Grade:
    result = Grade()
    for case in cases():
        start = time.perf_counter()
        plan = planner.plan_now("t_1", case["q"], attached(case.get("files", [])), {})
        result.seconds.append(time.perf_counter() - start)
        got = [step.agent for step in plan.steps]
        right = got == case["expect"]
        result.per_category[case["cat"]][0] += right
        result.per_category[case["cat"]][1] += 1
        if not case["expect"]:
            result.refusals.append(not got)
        if not right:
            result.misses.append(f"{case['q']!r} {case.get('files', [])}: {got} != {case['expect']}")
    return result
