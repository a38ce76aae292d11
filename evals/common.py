"""What every agent's evaluation shares: where the public data lies and one row of the table."""

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def shared_data() -> Path:
    """The public benchmark data: $AIORCH_SHARED_DATA, else ../shared/data beside the checkout."""
    return Path(os.environ.get("AIORCH_SHARED_DATA") or REPO.parent / "shared" / "data")


@dataclass
class EvalRow:
    agent: str
    dataset: str
    cases: int
    score: str
    """The headline figure with its name, e.g. 'success 0.83' or 'F1 0.87 (P 0.97, R 0.79)'."""
    seconds: float
    split: str = "all"
    """'dev' (tuned on), 'held-out' (kept aside until the end) or 'all'."""
    target: str = ""
    detail: str = ""


def table(rows: list[EvalRow]) -> str:
    header = ("agent", "dataset", "split", "cases", "score", "target", "time")
    lines = [(r.agent, r.dataset, r.split, str(r.cases), r.score, r.target, f"{r.seconds:.1f} s") for r in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *lines, strict=True)]
    render = ["| " + " | ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)) + " |"
              for line in [header, *lines]]
    render.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(render)
