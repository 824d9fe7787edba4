#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than the lock file: Herald's, then the
# web console's (web/, a package of its own so its front-end tooling stays out of the service's).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "deps: npm ci"
  npm ci --no-audit --no-fund
fi
if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "deps: npm ci (web)"
  npm ci --prefix web --no-audit --no-fund
fi
