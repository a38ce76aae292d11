"""`make bench` (bench/run.py) finds what it borrows from the tests: the planner's labelled-set
grader, whose `tests.labelled` name the repository's own `tests` package shadows."""

import importlib.util
from pathlib import Path

import tests  # noqa: F401  (what bench/run.py has imported by the time it grades the planner)

ROOT = Path(__file__).resolve().parents[2]


def test_the_bench_loads_the_planners_labelled_set_grader():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    grade = bench.labelled_grader()
    assert callable(grade) and Path(grade.__code__.co_filename) == ROOT / "services" / "planner" / "tests" / "labelled.py"
