#!/usr/bin/env bash
# A local Redis Cluster from Debian's redis-server (installed with apt-get when missing), no Docker:
# 3 masters and 3 replicas on loopback, nothing kept on disk (like Herald's production Redis).
#
#   scripts/redis-cluster.sh start          start the nodes and create the cluster (idempotent)
#   scripts/redis-cluster.sh start-node P   start (again) the node on port P, with its cluster identity
#   scripts/redis-cluster.sh stop           stop every node and remove the cluster's files
#   scripts/redis-cluster.sh status         the nodes and slots (CLUSTER NODES)
#
# Then: REDIS_URL=redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 npm start
#
# Settings: REDIS_CLUSTER_PORTS (7000,7001,7002,7003,7004,7005; each port + 10000 is the cluster bus),
# REDIS_CLUSTER_REPLICAS (replicas per master, 1), REDIS_CLUSTER_NODE_TIMEOUT (ms, 5000),
# REDIS_CLUSTER_DIR (.tmp/redis-cluster). Tests start clusters of their own with this script on free
# ports and a short node timeout (test/support/cluster.ts).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IFS=, read -r -a PORTS <<<"${REDIS_CLUSTER_PORTS:-7000,7001,7002,7003,7004,7005}"
REPLICAS=${REDIS_CLUSTER_REPLICAS:-1}
NODE_TIMEOUT=${REDIS_CLUSTER_NODE_TIMEOUT:-5000}
DIR=${REDIS_CLUSTER_DIR:-$ROOT/.tmp/redis-cluster}

say() { printf 'redis-cluster: %s\n' "$*"; }
die() { printf 'redis-cluster: error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif have sudo; then sudo "$@"
  else die "root is needed for: $* (run as root or install sudo)"
  fi
}

ensure_redis_server() {
  have redis-server && have redis-cli && return 0
  have apt-get || die "redis-server is missing and there is no apt-get to install it"
  mkdir -p "$ROOT/.tmp"
  say "installing redis-server with apt-get"
  { as_root env DEBIAN_FRONTEND=noninteractive apt-get update &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; } >"$ROOT/.tmp/apt-redis.log" 2>&1 ||
    { tail -n 20 "$ROOT/.tmp/apt-redis.log" >&2; die "apt-get install redis-server failed"; }
}

cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }
answers() { [ "$(cli "$1" ping 2>/dev/null)" = PONG ]; }

start_node() {
  local port=$1 dir="$DIR/$1"
  if answers "$port"; then return 0; fi
  mkdir -p "$dir"
  # cluster-require-full-coverage no: while a master with no replica is down, the other masters'
  # slots (and so the queues on them) keep working.
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$dir" \
    --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" --save "" --appendonly no \
    --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout "$NODE_TIMEOUT" \
    --cluster-require-full-coverage no --cluster-replica-validity-factor 0 ||
    die "redis-server on $port failed to start (log: $dir/redis.log)"
  for _ in $(seq 100); do answers "$port" && return 0; sleep 0.1; done
  if grep -q 'Address already in use' "$dir/redis.log" 2>/dev/null; then die "port $port: Address already in use (log: $dir/redis.log)"; fi
  die "redis-server on $port does not answer (log: $dir/redis.log)"
}

cluster_ok() { cli "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

start() {
  ensure_redis_server
  for port in "${PORTS[@]}"; do start_node "$port"; done
  if [ "$(cli "${PORTS[0]}" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')" = 1 ]; then
    say "creating the cluster on ${PORTS[*]} ($REPLICAS replica(s) per master)"
    local nodes=()
    for port in "${PORTS[@]}"; do nodes+=("127.0.0.1:$port"); done
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas "$REPLICAS" --cluster-yes >"$DIR/create.log" 2>&1 ||
      { tail -n 20 "$DIR/create.log" >&2; die "redis-cli --cluster create failed (log: $DIR/create.log)"; }
  fi
  for _ in $(seq 600); do
    local ok=1
    for port in "${PORTS[@]}"; do cluster_ok "$port" || ok=0; done
    if [ "$ok" = 1 ]; then
      local urls=()
      for port in "${PORTS[@]}"; do urls+=("127.0.0.1:$port"); done
      say "up: REDIS_URL=redis+cluster://$(IFS=,; echo "${urls[*]}")"
      return 0
    fi
    sleep 0.1
  done
  die "the cluster did not reach cluster_state:ok (logs in $DIR)"
}

stop() {
  for port in "${PORTS[@]}"; do
    local pidfile="$DIR/$port/redis.pid"
    if [ -f "$pidfile" ]; then kill -9 "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  rm -rf "$DIR"
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  start-node) [ -n "${2:-}" ] || die "usage: $0 start-node PORT"; ensure_redis_server; start_node "$2" ;;
  stop) stop ;;
  status) cli "${PORTS[0]}" cluster nodes ;;
  *) die "usage: $0 start|start-node PORT|stop|status" ;;
esac
