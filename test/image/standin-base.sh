#!/usr/bin/env bash
# Builds a STAND-IN for the Dockerfile's base image node:24-slim, which these
# machines cannot pull (no Docker Hub): Debian bookworm (mmdebstrap
# --variant=minbase, as debian:bookworm-slim is), the project's own Node 24
# binary (the `node` devDependency), this machine's npm, and a `node` user with
# uid and gid 1000, as the official image has. It is imported into podman as
# localhost/shardcache-node24-standin:<hash>, the hash taken over this script,
# the Node binary and the npm version: built once, reused while none of them
# changes. Prints the tag on its last line.
#   bash test/image/standin-base.sh
# Needs root, podman and mmdebstrap (apt-get install podman mmdebstrap runc).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}

for tool in podman mmdebstrap; do
  command -v "$tool" >/dev/null 2>&1 || { echo "standin-base: $tool is missing. Install it with: apt-get install podman mmdebstrap runc" >&2; exit 1; }
done
node=$(readlink -f "$root/node_modules/node/bin/node")
[ -x "$node" ] || { echo "standin-base: no project Node at node_modules/node/bin/node (run npm ci)" >&2; exit 1; }
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[ -f "$npm_dir/package.json" ] || { echo "standin-base: npm's folder not found (from $(command -v npm))" >&2; exit 1; }
npm_version=$(sed -nE 's/^  "version": "([^"]+)".*/\1/p' "$npm_dir/package.json")

hash=$( { sha256sum <"$0"; sha256sum <"$node"; echo "npm $npm_version"; } | sha256sum | cut -c1-16)
tag=localhost/shardcache-node24-standin:$hash
if podman image exists "$tag"; then
  echo "standin-base: reusing $tag" >&2
  echo "$tag"
  exit 0
fi

work=$(mktemp -d /var/tmp/shardcache-standin.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "standin-base: building $tag (bookworm minbase, Node $("$node" --version), npm $npm_version)" >&2
# Hooks run on the host with the new root as $1. No docs, man pages or
# locales, as debian:bookworm-slim leaves them out; no apt lists.
mmdebstrap --variant=minbase --quiet \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --customize-hook="install -D -m 755 '$node' \"\$1/usr/local/bin/node\"" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a '$npm_dir' \"\$1/usr/local/lib/node_modules/npm\"" \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  --customize-hook='chroot "$1" groupadd --gid 1000 node && chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  bookworm "$work/rootfs.tar" >&2
podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  --change "LABEL org.opencontainers.image.description=\"stand-in for node:24-slim, built by test/image/standin-base.sh\"" \
  "$work/rootfs.tar" "$tag" >&2
echo "$tag"
