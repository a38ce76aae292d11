"""Every agent's domain code works without the transport: its modules load, and its main
function runs on a small real input, in a fresh interpreter where `aiorch.runtime`, `nats`,
`faststream` and `structlog` cannot be imported. Only the wiring (`app.py`, `__main__.py`,
`config.py`, and the registry declaration `agentspec.py`) may use them: a domain module
that imports one of them fails here."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_AGENTS = {"gateway", "planner", "ui"}
AGENTS = sorted(path.parent.name for path in ROOT.glob("services/*/pyproject.toml"))
AGENTS = [name for name in AGENTS if name not in NOT_AGENTS]
WIRING = {"app", "__main__", "config", "agentspec"}
BLOCKED = ("aiorch.runtime", "nats", "faststream", "structlog")

# Runs first in the subprocess: a meta-path finder that refuses the transport packages, then
# every domain module of the agent, imported one by one.
PRELUDE = f"""
import importlib, pkgutil, sys

BLOCKED = {BLOCKED!r}
WIRING = {sorted(WIRING)!r}


class Blocker:
    def find_spec(self, name, path=None, target=None):
        if any(name == blocked or name.startswith(blocked + ".") for blocked in BLOCKED):
            raise ModuleNotFoundError(f"{{name}} is not available to domain code", name=name)
        return None


loaded = [name for name in sys.modules if any(name == b or name.startswith(b + ".") for b in BLOCKED)]
assert not loaded, f"already imported before the test: {{loaded}}"
sys.meta_path.insert(0, Blocker())


def import_domain(agent):
    package = importlib.import_module(f"aiorch.{{agent}}")
    names = sorted(info.name for info in pkgutil.iter_modules(package.__path__) if info.name not in WIRING)
    assert names, f"aiorch.{{agent}} has no domain modules"
    for name in names:
        try:
            importlib.import_module(f"aiorch.{{agent}}.{{name}}")
        except ModuleNotFoundError as exc:
            if exc.name and any(exc.name == b or exc.name.startswith(b + ".") for b in BLOCKED):
                raise SystemExit(f"aiorch.{{agent}}.{{name}} imports {{exc.name}}: domain code must not") from None
            raise
    return names
"""

# What each agent's domain does on a tiny real input (the medical model is too heavy: import only).
EXERCISE = {
    "sentiment": """
        import tempfile
        from pathlib import Path

        from aiorch.sentiment.analyzer import SentimentAnalyzer, summarize
        from aiorch.sentiment.errors import SentimentError
        from aiorch.sentiment.inputs import select_texts

        batch = select_texts('What is the sentiment of "I love this phone" and "the battery is awful"?', {}, [], [])
        analyzer = SentimentAnalyzer(Path(tempfile.mkdtemp()) / "nltk")
        output = summarize(analyzer.analyze(batch.texts), batch.source)
        assert [(item.text, item.label) for item in output.items] == [
            ("I love this phone", "positive"), ("the battery is awful", "negative")], output.items
        try:
            select_texts("analyse the sentiment", {}, [], [])
        except SentimentError as error:
            assert error.code == "empty_input"
        else:
            raise AssertionError("no text: expected a SentimentError")
    """,
    "csv": """
        from aiorch.csv.cleaner import clean_bytes
        from aiorch.csv.errors import CsvProblem
        from aiorch.csv.spec import parse_instruction

        data = b"name,age\\nAda,36\\nAda,36\\nBob,41\\n"
        result = clean_bytes(data, "people.csv", parse_instruction("remove duplicate rows", ["name", "age"]))
        assert (result.output.rows_before, result.output.rows_after) == (3, 2), result.output
        assert result.cleaned_csv.decode().splitlines()[0] == "name,age"
        assert issubclass(CsvProblem, Exception)
    """,
    "browser": """
        from aiorch.browser.errors import BrowseError
        from aiorch.browser.plan import parse
        from aiorch.browser.policy import Refused, UrlPolicy

        plan = parse("open https://example.org and read the headings", {}, 3)
        assert plan.actions[0].kind == "open" and plan.actions[0].target == "https://example.org"
        try:
            parse("read the news", {}, 3)
        except BrowseError as error:
            assert error.code == "no_url"
        else:
            raise AssertionError("no address: expected a BrowseError")
        try:
            UrlPolicy(frozenset()).check("http://127.0.0.1/")
        except Refused:
            pass
        else:
            raise AssertionError("a local address must be refused")
    """,
}


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_every_agent_is_checked():
    assert set(AGENTS) >= {"sentiment", "csv", "browser", "medical"}


@pytest.mark.parametrize("agent", AGENTS)
def test_domain_modules_load_and_run_without_the_transport(agent):
    code = PRELUDE + f"\nnames = import_domain({agent!r})\n" + textwrap.dedent(EXERCISE.get(agent, "")) + "\nprint(names)\n"
    finished = run(code)
    assert finished.returncode == 0, finished.stderr[-3000:]


def test_the_guard_catches_a_runtime_import():
    for module in ("aiorch.runtime.agent", "nats", "structlog", "faststream"):
        finished = run(PRELUDE + f"\nimport {module}\n")
        assert finished.returncode != 0 and "is not available to domain code" in finished.stderr, (module, finished.stderr)


def test_a_domain_module_that_imports_the_runtime_is_named(tmp_path):
    (tmp_path / "sneaky.py").write_text("from aiorch.runtime.agent import StepFailure\n")
    code = PRELUDE + f"\nimport aiorch.csv\naiorch.csv.__path__.append({str(tmp_path)!r})\nimport_domain('csv')\n"
    finished = run(code)
    assert finished.returncode != 0
    assert "aiorch.csv.sneaky imports aiorch.runtime: domain code must not" in finished.stderr, finished.stderr[-2000:]
