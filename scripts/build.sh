#!/usr/bin/env bash
# `npm run build`: the service (tsc into dist/) and the web console (vite into web/dist/).
#
# `bash scripts/build.sh --if-changed` (what npm test, npm start, the chaos, cluster and observability
# suites and the bench run) skips the build when both outputs are there and the sources are those of
# the last build in this tree, fingerprinted by content. Each of them used to rebuild: 12 s of tsc
# apiece, six times in a CI run. `npm run build` always builds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
STAMP=dist/.sources.sha1

fingerprint() {
  # Everything either build reads that is not under node_modules (a path that is absent counts as such).
  local path paths=()
  for path in src web/src web/public web/index.html web/openapi.json web/vite.config.ts web/tsconfig.json \
    tsconfig.json tsconfig.build.json package-lock.json web/package-lock.json; do
    [ -e "$path" ] && paths+=("$path")
  done
  find "${paths[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha1sum | sha1sum | cut -d' ' -f1
}

sources=$(fingerprint)
if [ "${1:-}" = --if-changed ] && [ -f dist/main.js ] && [ -f web/dist/index.html ] \
  && [ "$(cat "$STAMP" 2>/dev/null)" = "$sources" ]; then
  exit 0
fi
rm -f "$STAMP"
npx tsc -p tsconfig.build.json
npm run build --prefix web --silent
printf '%s\n' "$sources" > "$STAMP"
