"""Past one machine: the Kubernetes manifests (deploy/k8s) are valid against Kubernetes' own schemas,
offline, and say what the README promises (health probes, resources, cookie affinity, an
autoscaler); deploy/docker-compose.yml puts several replicas behind the nginx configuration that
tests/test_nginx.py runs."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate  # requirements-dev.txt: Kubernetes' schemas ship inside it, no network
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
VERSION = "1.30.0"  # the oldest Kubernetes still served by the big clouds: a manifest valid there works on newer


def manifests() -> dict[str, dict]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return {name: yaml.safe_load((K8S / name).read_text()) for name in kustomization["resources"]}


def test_every_manifest_is_applied_and_valid_offline():
    listed = set(manifests())
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}  # none forgotten
    for name, resource in manifests().items():
        # strict: an unknown or misspelt field fails too (kubectl would drop or refuse it)
        kubernetes_validate.validate(resource, VERSION, strict=True)


def test_a_broken_manifest_is_caught():
    deployment = manifests()["deployment.yaml"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["port"] = [8501]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSION, strict=True)
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # misspelt
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSION, strict=True)


def test_probes_resources_affinity_and_autoscaler():
    found = manifests()
    pod = found["deployment.yaml"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/_stcore/health", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8501}]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) and "memory" in container["resources"]["limits"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    annotations = found["ingress.yaml"]["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600  # websockets stay open
    hpa = found["hpa.yaml"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == found["deployment.yaml"]["metadata"]["name"]
    assert 1 < hpa["minReplicas"] < hpa["maxReplicas"]
    service = found["service.yaml"]["spec"]
    assert service["selector"] == found["deployment.yaml"]["spec"]["selector"]["matchLabels"]


def test_compose_puts_replicas_behind_the_nginx_configuration():
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())["services"]
    app, nginx = compose["app"], compose["nginx"]
    assert (ROOT / "deploy" / app["build"]["context"] / "Dockerfile").is_file()
    assert app["deploy"]["replicas"] == "${REPLICAS:-2}" and "ports" not in app  # only nginx is published
    source, target, _ = nginx["volumes"][0].split(":")
    config = (ROOT / "deploy" / source).read_text()
    assert target == "/etc/nginx/conf.d/default.conf" and "server app:8501;" in config
    assert nginx["depends_on"]["app"]["condition"] == "service_healthy"
