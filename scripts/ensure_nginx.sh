#!/usr/bin/env bash
# Make sure Debian's nginx is there for `make serve` and the load-balancer test.
# Installs it with apt-get when it is missing and we are root; otherwise says so.
set -u
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's nginx (light) for the replicas' load balancer..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends nginx-light >/dev/null && exit 0
  apt-get install -y -qq --no-install-recommends nginx >/dev/null && exit 0
  echo "Could not install nginx with apt-get." >&2
else
  echo "nginx is not installed; 'make serve' needs it for more than one replica." >&2
  echo "Install it with: sudo apt-get install -y nginx-light" >&2
fi
# Outside CI the nginx test skips; in CI (CI=true) it fails loudly instead.
exit 0
