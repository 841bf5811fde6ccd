#!/usr/bin/env bash
# Install Debian's chromium and chromium-driver for the browser tests (and a CJK font, so screenshots of the
# zh-CN pages show characters, not boxes), when missing and when we may.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || need+=(fonts-wqy-microhei)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} for the browser tests ..."
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  exit 0
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium is missing and cannot be installed here (not root or no apt-get); the browser tests will fail." >&2
  echo "install it with: sudo apt-get install chromium chromium-driver fonts-wqy-microhei" >&2
fi
