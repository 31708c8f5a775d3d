#!/usr/bin/env bash
# Puts redis-py 6 (Debian trixie's python3-redis, pure Python, Architecture: all)
# under .cache/redis-py-6/ in the repository (git-ignored), unless it is there
# already, and prints the folder to put on PYTHONPATH (its last line of output).
#
# Why: redis-py gained protocol=3 (RESP3) in 5.0; the machine's own
# python3-redis is bookworm's 4.3.4 (RESP2 only) and PyPI is unreachable here,
# but Debian's mirror is reachable. Nothing is installed system-wide: a private
# apt source list, lists and cache under .cache/redis-py-6/apt/ (deleted after),
# `apt-get download` (whatever version trixie has now), `dpkg-deb -x`.
# /usr/bin/python3 is 3.11.2, under redis-py 6's 3.11.3 cut-off, so `import
# redis` also needs async_timeout: bookworm's python3-async-timeout, listed in
# test/system-packages.txt.
#
# Fails (exit 1, a message on stderr) when the mirror cannot be reached or the
# unpacked redis-py is older than 5: test/redis-py.test.ts then fails, it never
# skips. REDIS_PY_MIRROR overrides the mirror (default http://deb.debian.org/debian).
#   bash test/redis-py-trixie.sh   ->  /…/.cache/redis-py-6/site
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/.cache/redis-py-6
site=$dest/site
mirror=${REDIS_PY_MIRROR:-http://deb.debian.org/debian}
python=/usr/bin/python3

fail() {
  echo "redis-py-trixie: $*" >&2
  exit 1
}
# The major version redis-py has under $1, from the copy there (not bookworm's in dist-packages).
major() {
  PYTHONPATH=$1 "$python" -c 'import os, sys, redis
assert os.path.dirname(os.path.dirname(redis.__file__)) == os.path.realpath(sys.argv[1]), redis.__file__
print(redis.__version__.split(".")[0])' "$1"
}

mkdir -p "$dest"
# Two test runs at once unpack one copy, not two halves.
exec 9>"$dest/.lock"
flock 9

if [ -f "$site/redis/__init__.py" ]; then
  v=$(major "$site") || fail "the cached copy in $site does not import under $python (is python3-async-timeout installed?); delete $dest and run again"
  [ "$v" -ge 5 ] || fail "the cached copy in $site is redis-py $v.x, older than 5; delete $dest and run again"
  echo "$site"
  exit 0
fi

apt=$dest/apt
rm -rf "$apt" "$dest/unpacked"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
echo "deb $mirror trixie main" >"$apt/sources.list"
# Only this list, these lists, this cache: the machine's apt state is not read or changed.
A=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=/dev/null
  -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Dir::Etc::preferencesparts=/dev/null
  -o Acquire::Retries=2 -o Acquire::http::Timeout=30 -o APT::Sandbox::User="$(id -un)" -q)
echo "redis-py-trixie: fetching trixie's python3-redis from $mirror into $dest" >&2
# apt-get update can exit 0 having fetched nothing (an unreachable mirror is a warning), so the lists are checked too.
apt-get "${A[@]}" update >&2 && compgen -G "$apt/lists/*_dists_trixie_main_binary-*_Packages*" >/dev/null ||
  fail "could not read trixie's package lists from $mirror (is deb.debian.org reachable? set REDIS_PY_MIRROR for another mirror)"
(cd "$apt" && apt-get "${A[@]}" download python3-redis >&2) || fail "could not download python3-redis from trixie ($mirror)"
deb=$(compgen -G "$apt/python3-redis_*.deb" | head -n 1) || fail "apt-get download left no python3-redis_*.deb in $apt"
dpkg-deb -x "$deb" "$dest/unpacked" || fail "could not unpack $deb"
unpacked=$dest/unpacked/usr/lib/python3/dist-packages
v=$(major "$unpacked") || fail "$(basename "$deb") does not import under $python (is python3-async-timeout installed?)"
[ "$v" -ge 5 ] || fail "$(basename "$deb") is redis-py $v.x; the RESP3 tests need 5 or later"
rm -rf "$site"
mv "$unpacked" "$site"
echo "$(basename "$deb")" >"$dest/package"
rm -rf "$apt" "$dest/unpacked"
echo "$site"
