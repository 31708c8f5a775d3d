#!/usr/bin/env bash
# Typed commands on a value too large to cache (issue 22's forwarding): `LRANGE big 0 9` on a list of
# 20,000 items with MAX_VALUE_BYTES=1k, by redis-benchmark (20 clients), straight at Redis, through this
# build (which forwards the command), and through an older build given as $1 (its dist/src/main.js; one
# from before forwarding reads the whole list for every command). Interleaved rounds; run it under
# `flock /tmp/shardcache-heavy.lock`, after `tsc -b`. Its own redis-server and proxies on fixed ports
# 7411-7415 (not 6379), stopped by pid on exit.
#   bash benchmarks/forwarded.sh [<older build>/dist/src/main.js] [rounds]
# N_BEFORE: requests per round for the older build (default 500, for one that reads the list whole).
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:-}
rounds=${2:-3}
node=node_modules/.bin/node
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
redis-server --port 7411 --save '' --appendonly no >/dev/null &
pids+=($!)
until redis-cli -p 7411 ping >/dev/null 2>&1; do sleep 0.1; done
redis-cli -p 7411 eval "for i = 1, 20000 do redis.call('RPUSH', 'big', 'item-' .. i) end return 1" 0 >/dev/null
start() { # http port, resp port, main.js
  REDIS_URL=redis://127.0.0.1:7411 PORT=$1 RESP_PORT=$2 ADMIN_PORT=0 MAX_VALUE_BYTES=1k SHARDS=1 "$node" "$3" >/dev/null 2>&1 &
  pids+=($!)
  until redis-cli -p "$2" ping >/dev/null 2>&1; do sleep 0.1; done
}
start 7412 7413 dist/src/main.js
targets=("redis 7411" "this-build 7413")
if [ -n "$before" ]; then
  start 7414 7415 "$before"
  targets+=("before 7415")
fi
for round in $(seq "$rounds"); do
  for target in "${targets[@]}"; do
    set -- $target
    # A build from before forwarding reads 20,000 items per command: fewer requests keep its turn short.
    n=${N_BEFORE:-500}; [ "$1" = before ] || n=20000
    rps=$(redis-benchmark -p "$2" -n "$n" -c 20 -q LRANGE big 0 9 | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1)
    echo "round $round $1: $rps"
  done
done
