#!/usr/bin/env bash
# Makes sure `prometheus` and `promtool` (Debian's prometheus package) are installed, for the
# observability checks (test/observability/). Idempotent; installs with apt-get only when absent.
set -euo pipefail

say() { printf 'prometheus: %s\n' "$*"; }
die() { printf 'prometheus: error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

if have prometheus && have promtool; then exit 0; fi
have apt-get || die "prometheus/promtool missing and there is no apt-get to install them; install them yourself"
if [ "$(id -u)" = 0 ]; then as_root=(); elif have sudo; then as_root=(sudo); else die "root is needed to install prometheus"; fi

log=$(mktemp)
say "apt-get update"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get update failed"; }
say "installing prometheus (prometheus, promtool) with apt-get"
# The package's service is not wanted: the tests start their own server on a free port.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >"$log" 2>&1 ||
  { tail -n 20 "$log" >&2; die "apt-get install prometheus failed"; }
rm -f "$log"
have prometheus && have promtool || die "prometheus installed but prometheus/promtool not on PATH"
say "installed $(prometheus --version 2>&1 | head -n 1)"
