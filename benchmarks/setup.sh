#!/usr/bin/env bash
# Installs the load generator and the C peers through apt when they are missing.
set -euo pipefail
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v webdis >/dev/null || need+=(webdis)
command -v varnishd >/dev/null || need+=(varnish)
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -eq 0 ]; then echo "setup: wrk, webdis, varnish and redis-server are present"; exit 0; fi
echo "setup: installing ${need[*]} through apt"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
# Debian starts packaged daemons where it can; the benchmarks start their own.
pkill -x webdis 2>/dev/null || true
