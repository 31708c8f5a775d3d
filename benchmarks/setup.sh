#!/usr/bin/env bash
# Installs the load generator and the C peers (webdis, Varnish, nginx + Lua)
# through apt when they are missing.
# It starts nothing and so stops nothing: Debian starts a packaged daemon at
# install where it can (webdis, varnish, nginx), so for the install alone this puts a
# policy-rc.d in place that tells invoke-rc.d and deb-systemd-invoke to start no
# service, and removes it after, if it was this script's (an operator's own
# policy is left as it is). The benchmarks start their own servers on free
# ports and stop them by pid; no process is ever found or killed by name.
set -euo pipefail
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v webdis >/dev/null || need+=(webdis)
command -v varnishd >/dev/null || need+=(varnish)
command -v redis-server >/dev/null || need+=(redis-server)
# The nginx peer (lib/nginx.ts): its Lua module and the two Lua libraries, by the files it loads.
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_http_lua_module.so ] || need+=(libnginx-mod-http-lua)
[ -e /usr/share/lua/5.1/nginx/redis.lua ] || need+=(lua-nginx-redis)
[ -e /usr/share/lua/5.1/resty/lrucache.lua ] || need+=(lua-resty-lrucache)
if [ ${#need[@]} -eq 0 ]; then echo "setup: wrk, webdis, varnish, redis-server and nginx + Lua are present"; exit 0; fi
echo "setup: installing ${need[*]} through apt"
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  trap 'rm -f "$policy"' EXIT
  printf '#!/bin/sh\n# benchmarks/setup.sh: no service starts while it installs (removed after).\nexit 101\n' >"$policy"
  chmod 755 "$policy"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
