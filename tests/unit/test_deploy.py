"""deploy/ checked offline: the kustomize trees build (`kubectl kustomize`) and every resource validates strictly
against the Kubernetes schemas that kubernetes-validate bundles; the compose file validates against the Compose
Specification's schema (vendored, deploy/README.md names its source); and both say what production needs:
probes, requests and limits, disruption budgets, secrets from the cluster, WebSockets, no sticky sessions."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S_VERSION = "1.32.0"
TREES = ["deploy/k8s/base", "deploy/k8s/overlays/production"]


def kustomize(tree: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed to build the kustomize trees (deploy/README.md)"
    built = subprocess.run([kubectl, "kustomize", str(REPO / tree)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def by_kind(resources: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


@pytest.fixture(scope="module", params=TREES)
def resources(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return kustomize(request.param)


def test_every_resource_validates_strictly_against_the_kubernetes_schemas(resources: list[dict[str, Any]]) -> None:
    for resource in resources:
        kubernetes_validate.validate(resource, K8S_VERSION, strict=True)


def test_the_validator_refuses_a_broken_resource(resources: list[dict[str, Any]]) -> None:
    app = copy.deepcopy(by_kind(resources, "Deployment")["hospital-app"])
    app["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(app, K8S_VERSION, strict=True)
    app = copy.deepcopy(by_kind(resources, "Deployment")["hospital-app"])
    app["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}  # a misspelt field: strict refuses
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(app, K8S_VERSION, strict=True)


def test_the_app_is_probed_sized_spread_and_kept_available(resources: list[dict[str, Any]]) -> None:
    deployments = by_kind(resources, "Deployment")
    assert set(deployments) == {"hospital-app", "hospital-media-worker", "hospital-dispatcher"}
    for probed in ("hospital-app", "hospital-media-worker"):
        app = deployments[probed]["spec"]
        assert app["replicas"] >= 2 and app["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        container = app["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["startupProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    worker = deployments["hospital-media-worker"]["spec"]["template"]["spec"]["containers"][0]
    assert worker["args"][0] == "media-worker"  # registered by its pod's name and IP, where the app reaches it
    assert {e["name"]: e.get("value") for e in worker["env"]}["HOSPITAL_MEDIA_WORKER_URL"] == "http://$(POD_IP):8100"
    for workload in [*deployments.values(), *by_kind(resources, "CronJob").values()]:
        spec = workload["spec"]["template"]["spec"] if workload["kind"] == "Deployment" else \
            workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]) and {"cpu", "memory"} <= set(
                c["resources"]["limits"]), f"{workload['metadata']['name']}/{c['name']}"
            assert {"secretRef": {"name": "hospital-secrets"}} in c["envFrom"]
    budgets = by_kind(resources, "PodDisruptionBudget")
    for name, deployment in deployments.items():
        assert budgets[name]["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
        assert budgets[name]["spec"]["minAvailable"] >= 1


def test_secrets_come_from_the_cluster_and_postgresql_is_external(resources: list[dict[str, Any]]) -> None:
    assert by_kind(resources, "Secret") == {}  # nothing secret in the repository
    assert by_kind(resources, "StatefulSet") == {}
    postgres = by_kind(resources, "Service")["postgres"]["spec"]
    assert postgres["type"] == "ExternalName"
    config = by_kind(resources, "ConfigMap")["hospital-config"]["data"]
    assert config["HOSPITAL_ENV"] == "production" and "HOSPITAL_DATABASE_URL" not in config
    assert not any(k in config for k in ("HOSPITAL_FIELD_KEY", "HOSPITAL_KEY_PASSPHRASE", "HOSPITAL_TURN_SECRET"))


def test_the_ingress_carries_websockets_over_tls_without_sticky_sessions(resources: list[dict[str, Any]]) -> None:
    ingress = by_kind(resources, "Ingress")["hospital"]
    notes = ingress["metadata"]["annotations"]
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600  # a call's events socket
    assert not notes.get("nginx.ingress.kubernetes.io/affinity")
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    assert by_kind(resources, "Service")["hospital-app"]["spec"]["sessionAffinity"] == "None"


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())  # type: ignore[no-any-return]


def compose_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads((DEPLOY / "compose" / "compose-spec.schema.json").read_text())
    return [error.message for error in jsonschema.Draft7Validator(schema).iter_errors(document)]


def test_the_compose_file_validates_against_the_compose_specification() -> None:
    assert compose_errors(compose()) == []
    broken = compose()
    broken["services"]["app-1"]["helthcheck"] = broken["services"]["app-1"].pop("healthcheck")
    assert compose_errors(broken)


def test_the_compose_file_runs_one_host_behind_nginx_with_tls() -> None:
    services = compose()["services"]
    assert {"postgres", "migrate", "app-1", "app-2", "media-1", "media-2", "dispatcher", "coturn", "nginx"} <= set(
        services)
    for worker in ("media-1", "media-2"):  # each registers under its own name and internal URL
        assert services[worker]["command"][0] == "media-worker"
        assert services[worker]["environment"]["HOSPITAL_MEDIA_WORKER_URL"] == f"http://{worker}:8100"
    assert services["dispatcher"]["command"] == ["connector", "run"]
    for app in ("app-1", "app-2"):
        assert services[app]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[app]["environment"]["HOSPITAL_ENV"] == "production"
        assert "hospital-data:/var/lib/hospital" in services[app]["volumes"]  # blobs and token key, shared
    conf = (DEPLOY / "nginx" / "hospital.conf").read_text()
    upstreams = re.findall(r"^upstream (\w+) \{(.*?)^\}", conf, re.M | re.S)
    servers = {name: re.findall(r"^\s*server\s+([\w.-]+):8000", body, re.M) for name, body in upstreams}
    assert servers == {"hospital_app": ["app-1", "app-2"]}
    assert "listen 443 ssl" in conf and "proxy_set_header Upgrade $http_upgrade" in conf
    # No sticky sessions, calls included: any replica routes a call to the media worker it is placed on.
    app_upstream = dict(upstreams)["hospital_app"]
    assert not re.search(r"^\s*(ip_hash|hash|sticky)\b", app_upstream, re.M)
    assert "$call_visit" not in conf
    assert "../nginx/hospital.conf:/etc/nginx/conf.d/default.conf:ro" in services["nginx"]["volumes"]


def test_the_production_image_builds_dlib_against_openblas() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\S+)$", dockerfile, re.M)
    assert stages == ["base", "wheels", "dlib-blas", "runtime-bin", "production"]
    production = dockerfile.split("AS production", 1)[1]
    assert "pip uninstall -y dlib-bin" in production and "dlib.DLIB_USE_BLAS" in production
    dlib_stage = dockerfile.split("AS dlib-blas", 1)[1].split("FROM", 1)[0]
    assert "libopenblas-dev" in dlib_stage
    # AVX2 whatever machine builds the image (issue 19's speed: GCC 12's HOG detector is 2.4x faster with it),
    # and the image's build fails on a dlib without AVX
    assert re.search(r"^ARG DLIB_CXXFLAGS=-mavx2$", dlib_stage, re.M) and 'CXXFLAGS="${DLIB_CXXFLAGS}" pip wheel' in dlib_stage
    assert "dlib.USE_AVX_INSTRUCTIONS" in production
    assert "OPENBLAS_NUM_THREADS=1" in dockerfile and "postgresql-client" in dockerfile  # pg_dump for backups


STRONG = {"HOSPITAL_FIELD_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "HOSPITAL_KEY_PASSPHRASE": "a long secret",
          "HOSPITAL_MEDIA_SECRET": "a media secret of thirty-two bytes or more"}


def test_the_compose_replicas_pass_productions_start_checks(tmp_path: Path) -> None:
    """REC-03: the app's environment in compose.yaml (its ${…} filled in as .env would) starts in production: an
    https public URL, nginx named as the TLS terminator, PostgreSQL reached with ?ssl=require, which the
    postgres service offers (ssl=on)."""
    from hospital.config import load_settings

    services = compose()["services"]
    env = {k: re.sub(r"\$\{(\w+)[^}]*\}", lambda m: {"PUBLIC_HOST": "hospital.example.cn"}.get(m[1], "x"), str(v))
           for k, v in services["app-1"]["environment"].items()}
    assert env["HOSPITAL_PUBLIC_URL"] == "https://hospital.example.cn" and env["HOSPITAL_TLS_PROXY"] == "nginx"
    load_settings({**env, **STRONG, "HOSPITAL_DATA_DIR": str(tmp_path)}).check()
    assert "ssl=on" in services["postgres"]["command"]


def test_the_cluster_config_passes_productions_start_checks(resources: list[dict[str, Any]], tmp_path: Path) -> None:
    """REC-03 in the cluster: https public URL on the Ingress's host, the ingress controller named as the TLS
    terminator; the database URL comes from hospital-secrets (here as the README asks it, with ?ssl=require)."""
    from hospital.config import load_settings

    config = by_kind(resources, "ConfigMap")["hospital-config"]["data"]
    host = by_kind(resources, "Ingress")["hospital"]["spec"]["rules"][0]["host"]
    assert config["HOSPITAL_PUBLIC_URL"] == f"https://{host}" and config["HOSPITAL_TLS_PROXY"]
    load_settings({**config, **STRONG, "HOSPITAL_DATA_DIR": str(tmp_path),
                   "HOSPITAL_DATABASE_URL": "postgresql+asyncpg://hospital:x@postgres:5432/hospital?ssl=require"}).check()
