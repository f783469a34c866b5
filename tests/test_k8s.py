"""deploy/k8s, offline: every manifest is valid against the Kubernetes schemas (kubernetes-validate ships them),
the pieces name each other correctly, and they keep the rules of the image and of the nginx files
(the warm-start health check, the container port, affinity by the same cookie, websocket timeouts,
the upload size, the memory limit)."""
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
# The oldest Kubernetes the manifests are meant for (README, "Many machines") and a recent one.
KUBERNETES_VERSIONS = ("1.30.0", "1.35.0")
ANNOTATION = "nginx.ingress.kubernetes.io/"


def _documents() -> list:
    """(file name, document) for every Kubernetes object under deploy/k8s (kustomization.yaml aside)."""
    docs = []
    for path in sorted(K8S.rglob("*.yaml")) + sorted(K8S.rglob("*.yml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(str(path.relative_to(K8S)), doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def _one(kind: str) -> dict:
    found = [doc for _, doc in _documents() if doc["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind} objects under deploy/k8s"
    return found[0]


def _container() -> dict:
    (container,) = _one("Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def _port(container: dict, port) -> int:
    """A probe's or a Service's port (a number or a port's name) as the container's number."""
    if isinstance(port, int):
        return port
    numbers = [p["containerPort"] for p in container["ports"] if p.get("name") == port]
    assert numbers, f"no container port named {port!r}"
    return numbers[0]


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _dockerfile_cmd() -> list:
    """The image's CMD (exec form, continuation lines joined)."""
    text = re.sub(r"\\\n\s*", "", _dockerfile())
    return json.loads(re.search(r"^CMD (\[.*\])\s*$", text, re.M).group(1))


def _option(argv: list, name: str) -> str:
    return argv[argv.index(name) + 1]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_for_kubernetes(version):
    docs = _documents()
    assert {doc["kind"] for _, doc in docs} >= {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler",
                                                "PodDisruptionBudget"}
    for name, doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            pytest.fail(f"{name}: {doc['kind']} is not valid for Kubernetes {version} at {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            pytest.fail(f"{name}: {error.message}")


def test_kustomization_lists_every_manifest_and_names_the_image():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    manifests = {str(p.relative_to(K8S)) for p in K8S.rglob("*.y*ml") if p.name != "kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(manifests)
    (image,) = kustomization["images"]
    assert image["name"] == _container()["image"], "kustomize would not replace the Deployment's image"
    assert image.get("newName") and image.get("newTag")


def test_service_ingress_hpa_and_pdb_reach_the_deployment():
    deployment, container = _one("Deployment"), _container()
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items(), "the Deployment's selector misses its own pods"

    service = _one("Service")
    assert service["spec"]["selector"].items() <= pod_labels.items(), "the Service selects no bnviz pod"
    service_ports = {p["name"]: p for p in service["spec"]["ports"]}
    for port in service_ports.values():
        assert _port(container, port["targetPort"]) in [p["containerPort"] for p in container["ports"]]

    ingress = _one("Ingress")
    backends = [path["backend"]["service"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
    assert backends
    for backend in backends:
        assert backend["name"] == service["metadata"]["name"]
        port = backend["port"]
        assert port.get("name") in service_ports or port.get("number") in [p["port"] for p in service_ports.values()]

    hpa = _one("HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": deployment["metadata"]["name"]}
    assert "replicas" not in deployment["spec"], "the autoscaler sets the replicas; an apply would reset them"
    assert hpa["spec"]["minReplicas"] >= 2, "one replica leaves no one serving while it restarts"

    pdb = _one("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items(), "the budget covers no bnviz pod"
    assert pdb["spec"].get("maxUnavailable") == 1 or pdb["spec"].get("minAvailable", 0) < hpa["spec"]["minReplicas"]


def test_probes_wait_for_the_warm_start_as_the_image_health_check_does():
    container = _container()
    (port,) = [p["containerPort"] for p in container["ports"]]
    cmd = _dockerfile_cmd()
    assert "command" not in container and "args" not in container, "the pod runs the image's CMD"
    assert int(_option(cmd, "--port")) == port, "the container port is not the port the image's server listens on"
    ready_file = _option(cmd, "--ready-file")

    # readiness: the image's HEALTHCHECK command, word for word: the ready file (warmed) and the health endpoint
    healthcheck = re.search(r"^HEALTHCHECK .*?\bCMD (.+)$", re.sub(r"\\\n\s*", " ", _dockerfile()), re.M).group(1)
    readiness = container["readinessProbe"]["exec"]["command"]
    assert readiness[:2] == ["sh", "-c"] and readiness[2] == healthcheck.strip()
    assert f"test -e {ready_file}" in readiness[2]
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\S+?)'", readiness[2])
    assert int(url.group(1)) == port and url.group(2) == "/_stcore/health"

    for probe in ("startupProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/_stcore/health" and _port(container, get["port"]) == port, probe
    # the Dockerfile's start period: the warm start may take 3 minutes on a busy machine
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 180


def test_runs_unprivileged_on_a_read_only_filesystem_with_a_writable_tmp():
    pod = _one("Deployment")["spec"]["template"]["spec"]
    container = _container()
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert "--uid %d " % pod["securityContext"]["runAsUser"] in _dockerfile(), "not the image's own user"
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    ready_dir = str(Path(_option(_dockerfile_cmd(), "--ready-file")).parent)
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert ready_dir in mounts and "emptyDir" in volumes[mounts[ready_dir]], "the ready file needs a writable /tmp"
    for env in container.get("env", []):
        if env["name"].endswith(("_DIR", "HOME")):
            assert env["value"].startswith(ready_dir + "/"), f"{env['name']} points at the read-only filesystem"


def test_resources_follow_the_sizing_and_the_compose_limit():
    resources = _container()["resources"]
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    mem_limit = compose["x-replica"]["mem_limit"]
    assert re.fullmatch(r"(\d+)m", mem_limit) and resources["limits"]["memory"] == mem_limit[:-1] + "Mi"
    assert resources["requests"]["cpu"] == "1", "README, Sizing: each replica one core"
    assert resources["requests"]["memory"] == "1536Mi", "README, Sizing: each replica 1.5 GB"


def test_ingress_keeps_the_nginx_rules():
    annotations = _one("Ingress")["metadata"]["annotations"]
    for conf in ("nginx.conf.template", "nginx.compose.conf"):
        nginx = (ROOT / "deploy" / conf).read_text()
        cookie = re.search(r"\$cookie_(\w+)", nginx).group(1)
        assert annotations[ANNOTATION + "affinity"] == "cookie"
        assert annotations[ANNOTATION + "session-cookie-name"] == cookie, conf
        read_timeout = re.search(r"proxy_read_timeout (\d+)h;", nginx).group(1)
        for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
            assert annotations[ANNOTATION + timeout] == str(int(read_timeout) * 3600), (conf, timeout)
        body = re.search(r"client_max_body_size (\w+);", nginx).group(1)
        assert annotations[ANNOTATION + "proxy-body-size"] == body, conf
        assert "proxy_buffering off" in nginx and annotations[ANNOTATION + "proxy-buffering"] == "off"
    # a visitor stays on their replica when pods are added
    assert annotations[ANNOTATION + "affinity-mode"] == "persistent"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed (its kustomize builds offline)")
def test_kustomize_builds_the_set_with_the_named_image():
    built = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    docs = [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    assert sorted(doc["kind"] for doc in docs) == sorted(doc["kind"] for _, doc in _documents())
    image = yaml.safe_load((K8S / "kustomization.yaml").read_text())["images"][0]
    (deployment,) = [doc for doc in docs if doc["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{image['newName']}:{image['newTag']}"
    assert shlex.split(container["readinessProbe"]["exec"]["command"][2])[:3] == ["test", "-e", "/tmp/bnviz.ready"]
