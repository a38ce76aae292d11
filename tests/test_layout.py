"""Adding an agent is one service folder plus its contracts: check the pieces line up."""

import tomllib
from pathlib import Path

from aiorch.contracts import CATALOG

ROOT = Path(__file__).resolve().parents[1]
NOT_AGENTS = {"gateway", "planner", "ui"}


def test_every_catalog_agent_has_its_service_folder_and_every_agent_folder_is_in_the_catalog():
    folders = {path.parent.name for path in ROOT.glob("services/*/pyproject.toml")} - NOT_AGENTS
    assert folders == set(CATALOG)


def test_each_service_is_a_package_named_after_its_folder_with_an_entry_point():
    for pyproject in ROOT.glob("services/*/pyproject.toml"):
        name = pyproject.parent.name
        project = tomllib.loads(pyproject.read_text())["project"]
        assert project["name"] == f"aiorch-{name}"
        assert (pyproject.parent / "src" / "aiorch" / name / "__main__.py").exists()
        assert not (pyproject.parent / "src" / "aiorch" / "__init__.py").exists(), "aiorch is a namespace package"
        pins = [dep for dep in project["dependencies"] if not dep.startswith("aiorch-")]
        assert all("==" in dep for dep in pins), f"{name}: pin third-party versions: {pins}"
