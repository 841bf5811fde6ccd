#!/usr/bin/env bash
# Install Debian's chromium and chromium-driver for the browser tests, when missing and when we may.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests ..."
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  exit 0
fi
echo "chromium is missing and cannot be installed here (not root or no apt-get); the browser tests will fail." >&2
echo "install it with: sudo apt-get install chromium chromium-driver" >&2
