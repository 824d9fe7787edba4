#!/usr/bin/env bash
# `npm test`: dependencies, PostgreSQL and Redis, a build (some tests run dist/ as separate
# processes), then every test tier: unit, integration and end-to-end. Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379}
bash scripts/deps.sh
bash scripts/services.sh
export TEST_DATABASE_URL=$DATABASE_URL TEST_REDIS_URL=$REDIS_URL
# The browser tests (test/browser) drive Debian's Chromium, installed here when absent.
HERALD_CHROMIUM=$(bash scripts/browser.sh)
export HERALD_CHROMIUM
bash scripts/build.sh --if-changed
npx jest --selectProjects unit e2e --forceExit "$@"
