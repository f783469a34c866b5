#!/usr/bin/env bash
# Runs the image as deploy/k8s/deployment.yaml's pod does and checks it: read-only root filesystem,
# a fresh /tmp (the pod's emptyDir), the manifest's user, every capability dropped, no new privileges,
# its memory limit and environment. Inside the container it runs the manifest's probes: the health
# endpoint answers soon (startup and liveness), the readiness command passes only once the server is
# warmed; then a visitor opens a tab, and SIGTERM stops the server with exit code 0.
#
#   bash scripts/check_pod.sh                  # builds the image first (docker, or podman as root)
#   IMAGE=bnviz bash scripts/check_pod.sh      # an image already built
#
# Without Docker Hub, scripts/compose_bases.sh builds a local stand-in for the base image.
# Not part of `make test`: it builds an image and takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
NAME=bnviz-pod-check
OWN_CONF=""
cleanup() {
    [ -n "${ENGINE:-}" ] && $ENGINE rm -f "$NAME" >/dev/null 2>&1
    [ -n "$OWN_CONF" ] && rm -f "$OWN_CONF"
    return 0
}
trap cleanup EXIT

if docker info >/dev/null 2>&1; then
    ENGINE=docker
elif command -v podman >/dev/null; then
    ENGINE=podman
    source scripts/podman_conf.sh     # as check_compose.sh: runc, cgroupfs, this shell's limits
else
    echo "needs docker with a running engine, or podman" >&2
    exit 2
fi

if [ -z "${IMAGE:-}" ]; then
    IMAGE=bnviz-pod-check
    echo "== $ENGINE: building the image"
    $ENGINE build --format docker -t "$IMAGE" . > "${TMPDIR:-/tmp}/bnviz-pod-build.log" 2>&1 ||
        { tail -20 "${TMPDIR:-/tmp}/bnviz-pod-build.log"; exit 1; }
fi

# The pod's settings, read from the manifest: user, memory limit, environment, /tmp, probes.
eval "$("$PY" - <<'EOF'
import shlex, yaml
pod = yaml.safe_load(open("deploy/k8s/deployment.yaml"))["spec"]["template"]["spec"]
(c,) = pod["containers"]
sc = pod["securityContext"]
assert c["securityContext"]["readOnlyRootFilesystem"] and c["securityContext"]["capabilities"]["drop"] == ["ALL"]
assert [m["mountPath"] for m in c["volumeMounts"]] == ["/tmp"]
print("USER_ID=%s:%s" % (sc["runAsUser"], sc["runAsGroup"]))
print("MEMORY=%s" % c["resources"]["limits"]["memory"].replace("Mi", "m"))
print("ENVS=(%s)" % " ".join(shlex.quote(f"-e{e['name']}={e['value']}") for e in c.get("env", [])))
print("READY=%s" % shlex.quote(c["readinessProbe"]["exec"]["command"][2]))
port = c["ports"][0]["containerPort"]
print("HEALTH=%s" % shlex.quote(f"import urllib.request; urllib.request.urlopen("
                                 f"'http://127.0.0.1:{port}{c['livenessProbe']['httpGet']['path']}', timeout=4)"))
EOF
)"

$ENGINE rm -f "$NAME" >/dev/null 2>&1 || true
echo "== starting $IMAGE as the pod: user $USER_ID, read-only root, /tmp writable, memory $MEMORY"
tmpfs_flags=(--tmpfs /tmp:rw,mode=1777)
[ "$ENGINE" = podman ] && tmpfs_flags+=(--read-only-tmpfs=false)    # podman's own /tmp, /var/tmp, /run: not in a pod
$ENGINE run -d --name "$NAME" --read-only "${tmpfs_flags[@]}" --user "$USER_ID" --cap-drop ALL \
    --security-opt no-new-privileges --memory "$MEMORY" "${ENVS[@]}" --network none "$IMAGE" \
    > "${TMPDIR:-/tmp}/bnviz-pod-run.log" 2>&1 || { cat "${TMPDIR:-/tmp}/bnviz-pod-run.log"; exit 1; }

started=$(date +%s); answering=""
while :; do
    elapsed=$(( $(date +%s) - started ))
    [ "$($ENGINE inspect -f '{{.State.Running}}' "$NAME")" = true ] ||
        { $ENGINE logs "$NAME" 2>&1 | tail -20; echo "FAIL: the server exited"; exit 1; }
    [ "$elapsed" -lt 180 ] || { echo "FAIL: not ready after 180 s (the startup probe's budget)"; exit 1; }
    if [ -z "$answering" ] && $ENGINE exec "$NAME" python -c "$HEALTH" 2>/dev/null; then
        answering=$elapsed
        if $ENGINE exec "$NAME" sh -c "$READY" 2>/dev/null; then
            echo "FAIL: ready at $elapsed s, before the warm start could have finished"; exit 1
        fi
        echo "   answering (startup, liveness) at $elapsed s, not ready yet (warming)"
    fi
    if $ENGINE exec "$NAME" sh -c "$READY" 2>/dev/null; then
        echo "   ready (warmed) at $elapsed s"; break
    fi
    sleep 1
done

$ENGINE exec "$NAME" python -c "
from bnviz.ui.visit import visit_sync
seen = visit_sync('http://127.0.0.1:8501', 'tab=Training')
assert seen.ok, 'the Training tab failed'
print('   a visitor opened the Training tab')"
$ENGINE exec "$NAME" sh -c 'touch /app/x 2>/dev/null' && { echo "FAIL: the root filesystem is writable"; exit 1; }
if $ENGINE logs "$NAME" 2>&1 | grep -E "Traceback|Read-only file system|Permission denied"; then
    echo "FAIL: errors in the server's output"; exit 1
fi
stopping=$(date +%s)
$ENGINE stop -t 30 "$NAME" >/dev/null 2>&1
code=$($ENGINE inspect -f '{{.State.ExitCode}}' "$NAME")
[ "$code" = 0 ] || { echo "FAIL: exit code $code after SIGTERM"; exit 1; }
echo "   stopped by SIGTERM in $(( $(date +%s) - stopping )) s, exit code 0"
echo "PASS: the pod's settings hold"
