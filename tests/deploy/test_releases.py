"""Dockerfiles match their packages; versions, tags and the compatibility table agree."""

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(path.parent.name for path in ROOT.glob("services/*/pyproject.toml"))
HADOLINT = ROOT / ".venv" / "bin" / "hadolint"


def project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())["project"]


def local_dependencies(folder: Path) -> set[str]:
    """The repository folders a package needs: itself and its aiorch-* libraries, recursively."""
    needed = {str(folder.relative_to(ROOT))}
    for dependency in project(folder)["dependencies"]:
        name = re.split(r"[<>=!~ \[]", dependency, maxsplit=1)[0]
        if name.startswith("aiorch-"):
            needed |= local_dependencies(ROOT / "libs" / name.removeprefix("aiorch-"))
    return needed


@pytest.mark.parametrize("service", SERVICES)
def test_each_dockerfile_installs_its_package_and_only_its_dependencies(service):
    parser = DockerfileParser(path=str(ROOT / "services" / service / "Dockerfile"))
    instructions = parser.structure
    copies = {item["value"].split()[0] for item in instructions if item["instruction"] == "COPY"
              and not item["value"].startswith("--from")}
    assert copies == local_dependencies(ROOT / "services" / service)
    installs = " ".join(item["value"] for item in instructions if item["instruction"] == "RUN" and "pip install" in item["value"])
    assert {path.removeprefix("./") for path in re.findall(r"\./[\w/]+", installs)} == copies
    entrypoint = next(item["value"] for item in instructions if item["instruction"] == "ENTRYPOINT")
    assert entrypoint == f'["python", "-m", "aiorch.{service}"]'
    assert (ROOT / "services" / service / "src" / "aiorch" / service / "__main__.py").exists()
    scripts = project(ROOT / "services" / service).get("scripts", {})
    assert scripts.get(f"aiorch-{service}") == f"aiorch.{service}.__main__:main"
    final_stage = parser.content.rsplit("\nFROM ", 1)[1]
    assert "USER 10001" in final_stage and "HEALTHCHECK" in final_stage and "-slim" in final_stage.splitlines()[0]


def test_dockerfiles_pass_hadolint():
    done = subprocess.run([str(HADOLINT), *(str(ROOT / "services" / s / "Dockerfile") for s in SERVICES)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_does_find_problems(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /tmp && pip install requests\n")
    assert subprocess.run([str(HADOLINT), str(bad)], capture_output=True).returncode != 0


def test_the_compatibility_table_matches_the_packages():
    table = (ROOT / "docs" / "releases.md").read_text()
    rows = dict(re.findall(r"^\| (aiorch-[\w-]+) \| ([\d.]+) \|", table, flags=re.M))
    folders = [*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")]
    packages = {project(path.parent)["name"]: project(path.parent) for path in folders}
    assert rows == {name: meta["version"] for name, meta in packages.items()}
    for name, meta in packages.items():
        contracts = [dep for dep in meta["dependencies"] if dep.startswith("aiorch-contracts")]
        if contracts:
            spoken = contracts[0].removeprefix("aiorch-contracts")
            assert f"| {name} | {meta['version']} | {spoken} |" in table


def test_release_builds_one_image_tagged_with_its_version():
    for service in SERVICES:
        version = project(ROOT / "services" / service)["version"]
        plan = subprocess.run(["make", "-n", "release", f"SERVICE={service}"], cwd=ROOT, capture_output=True, text=True)
        assert f"docker build -f services/{service}/Dockerfile -t aiorch/{service}:{version} ." in plan.stdout
    unknown = subprocess.run(["make", "release", "SERVICE=nope"], cwd=ROOT, capture_output=True, text=True)
    assert unknown.returncode != 0 and "usage: make release SERVICE=" in unknown.stderr


def test_image_tags_in_deploy_match_the_package_versions():
    versions = {service: project(ROOT / "services" / service)["version"] for service in SERVICES}
    compose = (ROOT / "deploy" / "compose.yaml").read_text()
    prod = (ROOT / "deploy" / "k8s" / "overlays" / "prod" / "kustomization.yaml").read_text()
    for service, version in versions.items():
        base = (ROOT / "deploy" / "k8s" / "base" / f"{service}.yaml").read_text()
        assert f"image: aiorch/{service}:{version}" in base
        assert f"aiorch/{service}:${{AIORCH_{service.upper()}_VERSION:-{version}}}" in compose
        assert f"newName: registry.example.com/aiorch/{service}, newTag: {version}" in prod
