#!/usr/bin/env bash
# Checks, before `npm test` builds anything, that the system packages in
# test/system-packages.txt are installed, so that a newcomer learns in a second
# what to install rather than from a few failed tests minutes later.
#   bash test/system-packages.sh            exit 1 naming what is missing and the apt line
#   bash test/system-packages.sh --missing  print the missing packages, one a line (for .ci/run)
set -euo pipefail
missing=()
while read -r package probe _; do
  case "$package" in '' | '#'*) continue ;; esac
  if [[ $probe == /* ]]; then
    [ -x "$probe" ] || missing+=("$package")
  else
    command -v "$probe" >/dev/null 2>&1 || missing+=("$package")
  fi
done <"$(dirname "$0")/system-packages.txt"
if [ "${1:-}" = --missing ]; then
  [ ${#missing[@]} -eq 0 ] || printf '%s\n' "${missing[@]}"
  exit 0
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "npm test: missing system packages: ${missing[*]}. Install them with: apt-get install ${missing[*]}" >&2
  exit 1
fi
