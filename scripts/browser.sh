#!/usr/bin/env bash
# Makes sure Debian's headless Chromium is installed for the browser tests (test/browser), installing it with
# apt-get when absent. Prints its path. HERALD_CHROMIUM overrides the path (then nothing is installed).
set -euo pipefail
say() { printf 'browser: %s\n' "$*" >&2; }
if [ -n "${HERALD_CHROMIUM:-}" ]; then echo "$HERALD_CHROMIUM"; exit 0; fi
for bin in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
done
command -v apt-get >/dev/null 2>&1 || { say "chromium is missing and there is no apt-get to install it"; exit 1; }
run() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else say "root is needed for: $*"; exit 1; fi; }
mkdir -p .tmp
say "installing chromium with apt-get (log: .tmp/apt-chromium.log)"
run env DEBIAN_FRONTEND=noninteractive apt-get update >.tmp/apt-chromium.log 2>&1
run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core >>.tmp/apt-chromium.log 2>&1 ||
  { tail -n 20 .tmp/apt-chromium.log >&2; say "apt-get install chromium failed"; exit 1; }
echo /usr/bin/chromium
