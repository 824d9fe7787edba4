#!/usr/bin/env bash
# shellcheck disable=SC2016 # the single-quoted node and bash -c programs expand their own $
# Makes sure the PostgreSQL named by DATABASE_URL and the Redis named by REDIS_URL answer, and
# that the database exists. Idempotent: start.sh and test.sh run it every time.
#
# For each service, in order:
#   a) it already answers                  -> nothing to do;
#   b) a Docker engine answers             -> `docker compose up -d <service>` (docker-compose.yml);
#   c) otherwise a local server, installed with apt-get when missing:
#      PostgreSQL - the Debian cluster on that port (pg_ctlcluster), else a cluster of our own in
#                   .tmp/postgres-<port> (trust auth, loopback only);
#      Redis      - redis-server on that port, nothing kept on disk, files in .tmp/redis-<port>.
# Only servers on this machine (localhost, 127.x, ::1) are started; others are only waited for.
#
# Settings: DATABASE_URL, REDIS_URL (defaults as in the service), HERALD_SERVICES_TIMEOUT
# (seconds to wait for each service, 60), HERALD_SERVICES_DOCKER=0 (never use Docker),
# HERALD_PG_TRUST_LOCAL=1 (let a Debian cluster that refuses password-less local TCP logins
# trust them; done anyway for a cluster this script has just installed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP_DIR="$ROOT/.tmp"
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/herald}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
TIMEOUT=${HERALD_SERVICES_TIMEOUT:-60}

say() { printf 'services: %s\n' "$*"; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }
is_local() { case "$1" in localhost | 127.* | ::1) return 0 ;; *) return 1 ;; esac; }

as_root() {
  if is_root; then "$@"
  elif have sudo; then sudo "$@"
  else die "root is needed for: $* (run as root or install sudo)"
  fi
}

# PostgreSQL refuses to run as root, so as root its commands run as the postgres user.
as_pg() {
  if ! is_root; then "$@"; return; fi
  id postgres >/dev/null 2>&1 || die "there is no 'postgres' system user to run PostgreSQL as"
  if have runuser; then runuser -u postgres -- "$@"
  else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  fi
}

# Prints protocol, user, password, host, port and path of a URL, each followed by a NUL.
parse_url() {
  have node || die "node is needed (Node 20)"
  node -e '
    const [raw, port] = process.argv.slice(1);
    let u;
    try { u = new URL(raw); } catch { console.error("not a valid URL: " + raw); process.exit(1); }
    const dec = (s) => decodeURIComponent(s);
    const host = u.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
    const fields = [u.protocol, dec(u.username), dec(u.password), host, u.port || port, dec(u.pathname.replace(/^\//, ""))];
    process.stdout.write(fields.map((f) => f + "\0").join(""));
  ' "$1" "$2"
}

fields=()
mapfile -d '' -t fields < <(parse_url "$DATABASE_URL" 5432)
[ "${#fields[@]}" = 6 ] || die "cannot read DATABASE_URL"
PG_USER=${fields[1]:-postgres} PG_PASSWORD=${fields[2]} PG_HOST=${fields[3]} PG_PORT=${fields[4]}
PG_DB=${fields[5]:-$PG_USER} # as libpq and node-postgres do
fields=()
mapfile -d '' -t fields < <(parse_url "$REDIS_URL" 6379)
[ "${#fields[@]}" = 6 ] || die "cannot read REDIS_URL"
REDIS_TLS=$([ "${fields[0]}" = rediss: ] && echo 1 || echo 0)
REDIS_USER=${fields[1]} REDIS_PASSWORD=${fields[2]} REDIS_HOST=${fields[3]} REDIS_PORT=${fields[4]}
at() { if [[ $1 == *:* ]]; then echo "[$1]:$2"; else echo "$1:$2"; fi; }
PG_AT=$(at "$PG_HOST" "$PG_PORT") REDIS_AT=$(at "$REDIS_HOST" "$REDIS_PORT")
PG_HINT="Is something else on port $PG_PORT, or is the server failing to start?"

# ---------------------------------------------------------------------------------- probes

tcp_open() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

pg_answers() {
  if have pg_isready; then pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 3
  else tcp_open "$PG_HOST" "$PG_PORT"
  fi
}

# Sends AUTH (when the URL has a password) and PING in RESP, without redis-cli.
redis_ping_tcp() {
  timeout 3 bash -c '
    resp() { local a; printf "*%d\r\n" "$#"; for a; do printf "\$%d\r\n%s\r\n" "$(LC_ALL=C; echo "${#a}")" "$a"; done; }
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    n=1
    if [ -n "$4" ]; then { if [ -n "$3" ]; then resp AUTH "$3" "$4"; else resp AUTH "$4"; fi; } >&3; n=2; fi
    resp PING >&3
    for ((i = 0; i < n; i++)); do IFS= read -r -t 3 line <&3 || exit 1; printf "%s\n" "${line%$'\''\r'\''}"; done
  ' _ "$REDIS_HOST" "$REDIS_PORT" "$REDIS_USER" "$REDIS_PASSWORD" 2>/dev/null
}

# Prints up, down or the refusal (wrong or missing credentials).
redis_state() {
  local reply
  if [ "$REDIS_TLS" = 1 ]; then # rediss://: no TLS handshake here, an open port will do
    if tcp_open "$REDIS_HOST" "$REDIS_PORT"; then echo up; else echo down; fi
    return
  fi
  if have redis-cli; then
    reply=$(env ${REDIS_PASSWORD:+"REDISCLI_AUTH=$REDIS_PASSWORD"} timeout 3 \
      redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ${REDIS_USER:+--user "$REDIS_USER"} ping 2>&1) || true
  else
    reply=$(redis_ping_tcp) || true
  fi
  case "$reply" in
    *PONG*) echo up ;;
    *NOAUTH* | *WRONGPASS* | *"invalid password"* | *"invalid username-password"*) echo "$reply" | head -n 1 ;;
    *) echo down ;; # refused, or still loading its data
  esac
}

redis_answers() {
  local state
  state=$(redis_state)
  case "$state" in
    up) return 0 ;;
    down) return 1 ;;
    *) die "Redis at $REDIS_AT answers but refuses the credentials in REDIS_URL: $state" ;;
  esac
}

# wait_for NAME CHECK HINT: calls CHECK every second until it succeeds or the time is up.
wait_for() {
  local deadline=$((SECONDS + TIMEOUT))
  say "waiting for $1 (up to ${TIMEOUT}s)"
  until "$2"; do
    ((SECONDS < deadline)) || die "$1 did not answer within ${TIMEOUT}s. $3"
    sleep 1
  done
  say "$1 is up"
}

# ---------------------------------------------------------------------------------- docker

COMPOSE=()
DOCKER_CHECKED=0
USED_DOCKER_PG=0

# Whether to use Docker: asked once, as `docker info` can take seconds.
docker_usable() {
  if [ "$DOCKER_CHECKED" = 0 ]; then
    DOCKER_CHECKED=1
    [ "${HERALD_SERVICES_DOCKER:-1}" != 0 ] && [ -f "$ROOT/docker-compose.yml" ] && have docker || return 1
    timeout 15 docker info >/dev/null 2>&1 || return 1
    if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose)
    elif have docker-compose; then COMPOSE=(docker-compose)
    else say "a Docker engine answers but Docker Compose is missing; not using Docker"
    fi
  fi
  [ "${#COMPOSE[@]}" -gt 0 ]
}

compose() {
  # The compose file requires the herald service's keys, but postgres and redis do not use them.
  HERALD_ADMIN_KEY=${HERALD_ADMIN_KEY:-not-used-by-postgres-or-redis} \
    HERALD_ENCRYPTION_KEY=${HERALD_ENCRYPTION_KEY:-not-used-by-postgres-or-redis} \
    HERALD_PG_PORT="$PG_PORT" HERALD_REDIS_PORT="$REDIS_PORT" \
    "${COMPOSE[@]}" --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" "$@"
}

# docker_start SERVICE: 0 when Docker started it, 1 when Docker is not there or it failed.
docker_start() {
  docker_usable || return 1
  say "starting $1 with ${COMPOSE[*]} up -d $1"
  if compose up -d "$1"; then return 0; fi
  say "${COMPOSE[*]} failed; trying a local $1 instead"
  return 1
}

# ---------------------------------------------------------------------------------- apt

APT_UPDATED=0
apt_install() {
  have apt-get || die "$* missing and there is no apt-get to install it; install it yourself"
  mkdir -p "$TMP_DIR"
  local log="$TMP_DIR/apt.log"
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update >"$log" 2>&1 ||
      { tail -n 20 "$log" >&2; die "apt-get update failed (log: $log)"; }
    APT_UPDATED=1
  fi
  say "installing $* with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; die "apt-get install $* failed (log: $log)"; }
}

# ---------------------------------------------------------------------------------- postgres

PG_INSTALLED_NOW=0

pg_bindir() {
  local d
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then echo "$d"
  elif have pg_ctl; then dirname "$(command -v pg_ctl)"
  else return 1
  fi
}

# Lets loopback TCP logins in without a password: a development machine's setting.
pg_trust_local_tcp() { # HBA_FILE
  grep -q '^# herald: trust loopback' "$1" && return 0
  say "letting local TCP connections in without a password ($1)"
  local tmp
  tmp=$(mktemp)
  { printf '# herald: trust loopback TCP connections (development; added by scripts/services.sh)\n'
    printf 'host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n'
    cat "$1"; } >"$tmp"
  cat "$tmp" >"$1" # keeps the file's owner and mode
  rm -f "$tmp"
}

# Prints "version name status" of the Debian cluster (apt, pg_createcluster) on PG_PORT.
pg_debian_cluster() {
  have pg_lsclusters || return 1
  local ver name port status _rest
  while read -r ver name port status _rest; do
    if [ "$port" = "$PG_PORT" ]; then echo "$ver $name $status"; return 0; fi
  done < <(pg_lsclusters -h 2>/dev/null)
  return 1
}

# Starts the Debian cluster on PG_PORT; 1 when there is none.
pg_start_debian_cluster() {
  local ver name status
  read -r ver name status < <(pg_debian_cluster) || return 1
  if [[ $status == online* ]]; then
    say "cluster $ver/$name is already running"
    PG_HINT="Cluster $ver/$name runs but not at $PG_AT: see listen_addresses in /etc/postgresql/$ver/$name/postgresql.conf."
  else
    say "starting PostgreSQL cluster $ver/$name on port $PG_PORT"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start ||
      die "pg_ctlcluster $ver $name start failed (see /var/log/postgresql/postgresql-$ver-$name.log)"
  fi
}

# A Debian cluster asks for passwords on TCP. Lets loopback logins in without one, where allowed:
# for a cluster this run has installed, or when HERALD_PG_TRUST_LOCAL=1. 1 when not done.
pg_trust_debian_cluster() {
  [ "$PG_INSTALLED_NOW" = 1 ] || [ "${HERALD_PG_TRUST_LOCAL:-0}" = 1 ] || return 1
  is_local "$PG_HOST" || return 1
  local ver name status
  read -r ver name status < <(pg_debian_cluster) || return 1
  as_root bash -c "$(declare -f say pg_trust_local_tcp); pg_trust_local_tcp /etc/postgresql/$ver/$name/pg_hba.conf"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload
}

# A cluster of our own for this port, in .tmp (or /tmp when the postgres user cannot reach .tmp).
pg_start_own_cluster() {
  local bin=$1 data="$TMP_DIR/postgres-$PG_PORT" listen
  mkdir -p "$data"
  if is_root; then chown postgres: "$data"; fi
  chmod 700 "$data"
  if ! as_pg test -w "$data" 2>/dev/null; then
    data="/tmp/herald-postgres-$PG_PORT"
    say "the postgres user cannot reach $ROOT/.tmp; using $data"
    mkdir -p "$data"
    if is_root; then chown postgres: "$data"; fi
    chmod 700 "$data"
  fi
  if [ ! -s "$data/PG_VERSION" ]; then
    say "creating a PostgreSQL cluster in $data (trust auth, loopback only)"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C >"$data.initdb.log" 2>&1 ||
      { tail -n 20 "$data.initdb.log" >&2; die "initdb failed (log: $data.initdb.log)"; }
  fi
  if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "the cluster in $data is already running"
    return 0
  fi
  case "$PG_HOST" in localhost) listen=localhost ;; *) listen=$PG_HOST ;; esac
  say "starting PostgreSQL on $PG_AT (data: $data)"
  as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t "$TIMEOUT" \
    -o "-p $PG_PORT -c listen_addresses='$listen' -c unix_socket_directories=''" start >/dev/null ||
    { tail -n 20 "$data/server.log" >&2 || true; die "PostgreSQL did not start (log: $data/server.log)"; }
}

ensure_postgres() {
  if pg_answers; then say "PostgreSQL at $PG_AT is up"; return; fi
  if ! is_local "$PG_HOST"; then
    wait_for "PostgreSQL at $PG_AT" pg_answers "It is not on this machine, so start it yourself."
    return
  fi
  if docker_start postgres; then
    USED_DOCKER_PG=1
    wait_for "PostgreSQL at $PG_AT" pg_answers "See: ${COMPOSE[*]} logs postgres"
    return
  fi
  local bin
  if ! bin=$(pg_bindir); then
    apt_install postgresql
    PG_INSTALLED_NOW=1
    bin=$(pg_bindir) || die "PostgreSQL's programs are still missing after apt-get install postgresql"
    # Where systemd runs, the package has started its cluster already.
    if pg_answers; then say "PostgreSQL at $PG_AT is up"; return; fi
  fi
  pg_start_debian_cluster || pg_start_own_cluster "$bin"
  wait_for "PostgreSQL at $PG_AT" pg_answers "$PG_HINT"
}

# ---------------------------------------------------------------------------------- redis

ensure_redis() {
  if redis_answers; then say "Redis at $REDIS_AT is up"; return; fi
  if ! is_local "$REDIS_HOST"; then
    wait_for "Redis at $REDIS_AT" redis_answers "It is not on this machine, so start it yourself."
    return
  fi
  if docker_start redis; then
    wait_for "Redis at $REDIS_AT" redis_answers "See: ${COMPOSE[*]} logs redis"
    return
  fi
  if ! have redis-server; then
    apt_install redis-server
    have redis-server || die "redis-server is still missing after apt-get install redis-server"
    # Where systemd runs, the package has started a Redis on 6379 already.
    if redis_answers; then say "Redis at $REDIS_AT is up"; return; fi
  fi
  local dir="$TMP_DIR/redis-$REDIS_PORT" bind=("$REDIS_HOST")
  mkdir -p "$dir"
  # "-": IPv6 only if the machine has it
  if [ "$REDIS_HOST" = localhost ]; then bind=(127.0.0.1 -::1); fi
  local args=(--daemonize yes --bind "${bind[@]}" --port "$REDIS_PORT" --save "" --appendonly no
    --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid")
  if [ -n "$REDIS_PASSWORD" ]; then args+=(--requirepass "$REDIS_PASSWORD"); fi
  say "starting Redis on $REDIS_AT (log: $dir/redis.log)"
  redis-server "${args[@]}" || die "redis-server failed to start (log: $dir/redis.log)"
  wait_for "Redis at $REDIS_AT" redis_answers "See $dir/redis.log"
}

# ---------------------------------------------------------------------------------- database

PG_CLIENT=

pg_choose_client() {
  if have psql; then PG_CLIENT=psql
  elif node -e 'require.resolve("pg", { paths: [process.argv[1]] })' "$ROOT" 2>/dev/null; then PG_CLIENT=node
  elif [ "$USED_DOCKER_PG" = 1 ]; then PG_CLIENT=docker
  else
    apt_install postgresql-client
    have psql || die "psql is still missing after apt-get install postgresql-client"
    PG_CLIENT=psql
  fi
}

# pg_sql USER PASSWORD SQL: runs SQL in the maintenance database; prints one row per line.
pg_sql() {
  case "$PG_CLIENT" in
    psql)
      PGPASSWORD="$2" PGCONNECT_TIMEOUT=5 psql -X -q -w -v ON_ERROR_STOP=1 -tA \
        -h "$PG_HOST" -p "$PG_PORT" -U "$1" -d postgres -c "$3" 2>&1 ;;
    node)
      node -e '
        const [root, host, port, user, password, sql] = process.argv.slice(1);
        const { Client } = require(require.resolve("pg", { paths: [root] }));
        const client = new Client({ host, port: Number(port), user, password, database: "postgres", connectionTimeoutMillis: 5000 });
        client.connect()
          .then(() => client.query(sql))
          .then((r) => { for (const row of r.rows || []) console.log(Object.values(row).join("|")); return client.end(); })
          .catch((e) => { console.log(e.message); process.exit(1); });
      ' "$ROOT" "$PG_HOST" "$PG_PORT" "$1" "$2" "$3" 2>&1 ;;
    docker)
      compose exec -T postgres psql -X -q -v ON_ERROR_STOP=1 -tA -U "$1" -d postgres -c "$3" 2>&1 ;;
  esac
}

sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }
sql_ident() { printf '"%s"' "${1//\"/\"\"}"; }

ensure_database() {
  pg_choose_client
  local out
  if ! out=$(pg_sql "$PG_USER" "$PG_PASSWORD" "SELECT 1") && [[ $out == *password* ]] && pg_trust_debian_cluster; then
    out=$(pg_sql "$PG_USER" "$PG_PASSWORD" "SELECT 1") || true
  fi
  if [[ $out != 1 ]]; then
    if [[ $out == *"role \"$PG_USER\" does not exist"* ]]; then
      say "creating role $PG_USER"
      local create
      create="CREATE ROLE $(sql_ident "$PG_USER") LOGIN"
      if [ -n "$PG_PASSWORD" ]; then create+=" PASSWORD $(sql_literal "$PG_PASSWORD")"; fi
      out=$(pg_sql postgres "" "$create") || die "cannot create role $PG_USER as postgres: $out"
    else
      local hint=""
      case "$out" in
        *password* | *"no pg_hba.conf entry"*)
          hint=" (the server wants a password: put one in DATABASE_URL, or, for a local Debian cluster, run again with HERALD_PG_TRUST_LOCAL=1)" ;;
      esac
      die "cannot connect to PostgreSQL at $PG_AT as $PG_USER: $out$hint"
    fi
  fi
  out=$(pg_sql "$PG_USER" "$PG_PASSWORD" "SELECT 1 FROM pg_database WHERE datname = $(sql_literal "$PG_DB")") ||
    die "cannot list databases: $out"
  if [ "$out" = 1 ]; then say "database $PG_DB exists"; return; fi
  say "creating database $PG_DB"
  if out=$(pg_sql "$PG_USER" "$PG_PASSWORD" "CREATE DATABASE $(sql_ident "$PG_DB")"); then return; fi
  [[ $out == *"already exists"* ]] && return # created meanwhile by a concurrent run
  if [ "$PG_USER" != postgres ]; then
    # A role without CREATEDB: create the database as postgres, owned by that role.
    out=$(pg_sql postgres "" "CREATE DATABASE $(sql_ident "$PG_DB") OWNER $(sql_ident "$PG_USER")") && return
    [[ $out == *"already exists"* ]] && return
  fi
  die "cannot create database $PG_DB: $out"
}

ensure_postgres
ensure_redis
ensure_database
