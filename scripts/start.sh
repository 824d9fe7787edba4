#!/usr/bin/env bash
# `npm start`: dependencies, PostgreSQL and Redis, a build, then Herald (migrations are applied on start).
# Development defaults: NODE_ENV=development gives a fixed admin key (herald_dev_admin_key) and a
# development encryption key; set HERALD_ADMIN_KEY and HERALD_ENCRYPTION_KEY for anything real.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f .env ] && set -a && . ./.env && set +a
export NODE_ENV=${NODE_ENV:-development}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/herald}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
bash scripts/deps.sh
bash scripts/services.sh
bash scripts/build.sh --if-changed
exec node dist/main.js
