#!/usr/bin/env bash
# Local stand-ins for the two base images compose.yaml needs, for a machine that reaches Debian's
# mirror and PyPI but not Docker Hub. Tags them with the Hub's names, so the Dockerfile and
# compose.yaml are used unchanged:
#   docker.io/library/python:3.11-slim    Debian 12's Python 3.11 in a virtual environment on PATH
#                                          (as in the real image: `python` and `pip install` work)
#   docker.io/library/nginx:1.27-alpine   Debian 12's nginx-light (1.22) laid out like the real image:
#                                          conf.d/default.conf is the only site, logs on stdout/stderr
# The Python image carries this machine's certificate authorities (pip inside the build must
# trust whatever this machine trusts). Needs root, podman and debootstrap; takes a few minutes.
#
#   sudo bash scripts/compose_bases.sh [scratch directory, default /tmp/bnviz-bases]
set -euo pipefail
SCRATCH=${1:-/tmp/bnviz-bases}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$SCRATCH"

rootfs() {   # rootfs NAME PACKAGES: a minimal Debian 12 in $SCRATCH/NAME
    [ -e "$SCRATCH/$1/etc/debian_version" ] ||
        nice -n 19 debootstrap --variant=minbase --include="$2" bookworm "$SCRATCH/$1" "$MIRROR" >"$SCRATCH/$1.log"
    rm -rf "$SCRATCH/$1"/var/cache/apt/archives/*.deb "$SCRATCH/$1"/var/lib/apt/lists/*
}

rootfs python python3,python3-venv,ca-certificates
[ -x "$SCRATCH/python/opt/venv/bin/python" ] || chroot "$SCRATCH/python" python3 -m venv /opt/venv
cp /etc/ssl/certs/ca-certificates.crt "$SCRATCH/python/etc/ssl/certs/ca-certificates.crt"
nice -n 19 tar -C "$SCRATCH/python" -c . | podman import \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' - docker.io/library/python:3.11-slim

rootfs nginx nginx-light
rm -f "$SCRATCH/nginx/etc/nginx/sites-enabled/default"
ln -sf /dev/stdout "$SCRATCH/nginx/var/log/nginx/access.log"
ln -sf /dev/stderr "$SCRATCH/nginx/var/log/nginx/error.log"
nice -n 19 tar -C "$SCRATCH/nginx" -c . | podman import \
    --change 'CMD ["nginx", "-g", "daemon off;"]' --change 'STOPSIGNAL SIGQUIT' --change 'EXPOSE 80' \
    - docker.io/library/nginx:1.27-alpine

podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'python:3.11-slim|nginx:1.27-alpine'
echo "the root file systems stay in $SCRATCH for a rebuild; rm -rf $SCRATCH when done"
