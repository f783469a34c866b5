#!/usr/bin/env bash
# Runs compose.yaml for real and checks it: builds the image, starts both replicas and nginx, waits
# until the replicas are healthy (warmed), then through nginx: the page loads, one link gives the same
# charts from both replicas, classrooms of websocket visitors with the containers' memory
# (scripts/compose_visits.py), replicas restarted and back in service, and in Chromium a CSV upload
# and the same numbers on both replicas (tests/browser/test_replicas.py). Stops the stack at the
# end (KEEP=1 leaves it running).
#
#   bash scripts/check_compose.sh              # docker compose, or podman with podman-compose
#   QUICK=1 bash scripts/check_compose.sh      # 10 visitors a scenario, no costly links
#   BNVIZ_PORT=8600 ...                        # nginx's port (default: a free one)
#
# Needs a running Docker engine, or podman (root) and podman-compose (pip install podman-compose).
# Without Docker Hub, scripts/compose_bases.sh builds local stand-ins for the two base images.
# Not part of `make test`: it builds images and takes several minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
PROJECT=bnviz-check

if docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    ENGINE=docker; COMPOSE=(docker compose)
elif command -v podman >/dev/null && command -v podman-compose >/dev/null; then
    ENGINE=podman; COMPOSE=(podman-compose --podman-build-args=--format=docker)   # keep the HEALTHCHECK
    source scripts/podman_conf.sh
else
    echo "needs docker with a running engine and the compose plugin, or podman and podman-compose" >&2
    exit 2
fi

PORT=${BNVIZ_PORT:-$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
export BNVIZ_PORT=$PORT
down() {
    if [ -z "${KEEP:-}" ]; then
        local t=$(date +%s)
        "${COMPOSE[@]}" -p "$PROJECT" down >/dev/null 2>&1 || true
        echo "== stopped and removed in $(( $(date +%s) - t )) s"
    fi
    if [ -n "${OWN_CONF:-}" ]; then rm -f "$OWN_CONF"; fi
}
trap down EXIT

echo "== $ENGINE: building and starting compose.yaml (nginx on port $PORT)"
started=$(date +%s)
"${COMPOSE[@]}" -p "$PROJECT" up -d --build > "${TMPDIR:-/tmp}/bnviz-compose-up.log" 2>&1 ||
    { tail -20 "${TMPDIR:-/tmp}/bnviz-compose-up.log"; exit 1; }
ids() { $ENGINE ps -q --filter "label=com.docker.compose.project=$PROJECT" ${1:+--filter "label=com.docker.compose.service=$1"}; }

# Healthy = the image's health check passes (warmed and answering). podman without systemd never runs
# health checks on its own, so this runs them; docker runs them itself and is only asked.
healthy() {
    if [ "$ENGINE" = podman ]; then podman healthcheck run "$1" >/dev/null 2>&1
    else [ "$(docker inspect --format '{{.State.Health.Status}}' "$1")" = healthy ]; fi
}
for service in replica1 replica2; do
    id=$(ids $service)
    for _ in $(seq 1 120); do healthy "$id" && break; sleep 3; done
    healthy "$id" || { echo "$service did not turn healthy in 6 minutes"; $ENGINE logs "$id" | tail -20; exit 1; }
done
echo "   both replicas healthy $(( $(date +%s) - started )) s after the start (build included)"
$ENGINE logs "$(ids replica1)" 2>&1 | grep -m1 "warmed in" | sed 's/^/   replica1: /'
$ENGINE logs "$(ids replica2)" 2>&1 | grep -m1 "warmed in" | sed 's/^/   replica2: /'
$ENGINE stats --no-stream $(ids) | sed 's/^/   /'

status=0
echo "== websocket visitors through nginx"
# shellcheck disable=SC2046
nice -n 19 "$PY" scripts/compose_visits.py "http://127.0.0.1:$PORT" --engine "$ENGINE" \
    --containers $(ids) ${QUICK:+--quick} || status=1

echo "== replicas restarted: by the engine after a crash, by hand; nginx sends visitors to both again"
back() {   # back SERVICE: wait until it is healthy again and say how it went
    sleep 2
    for _ in $(seq 1 120); do healthy "$(ids "$1")" && break; sleep 3; done
    echo "   $1: $($ENGINE inspect --format 'restarted {{.RestartCount}} time(s) by the engine, {{.State.Status}}' "$(ids "$1")")"
}
kill -9 "$($ENGINE inspect --format '{{.State.Pid}}' "$(ids replica1)")"    # its PID 1, as a crash would
back replica1
id=$(ids replica2)    # an engine may give it a new address when it starts again
$ENGINE stop "$id" >/dev/null 2>&1 && $ENGINE start "$id" >/dev/null 2>&1
back replica2
# shellcheck disable=SC2046
nice -n 19 "$PY" scripts/compose_visits.py "http://127.0.0.1:$PORT" --engine "$ENGINE" --containers $(ids) \
    --same-only || status=1

if [ -x /usr/bin/chromium ]; then
    echo "== Chromium through nginx: CSV upload, same numbers on both replicas"
    BNVIZ_BALANCER_URL="http://127.0.0.1:$PORT" nice -n 19 "$PY" -m pytest -q -p no:cacheprovider -m browser \
        tests/browser/test_replicas.py || status=1
else
    echo "== Chromium is not installed: the upload check was skipped (apt-get install -y chromium)"
fi
exit $status
