#!/usr/bin/env bash
# Install Debian's nginx (the light build: TLS, HTTP/2, upstream hashing) for the replica test
# (tests/integration/operations/test_replicas.py) and bench/api_load.py, when missing and when we may.
# The package's own service is not needed: the tests start nginx themselves on loopback ports.
set -euo pipefail
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing nginx-light for the replica test ..."
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
  exit 0
fi
echo "nginx is missing and cannot be installed here (not root or no apt-get); the replica test will fail." >&2
echo "install it with: sudo apt-get install nginx-light" >&2
