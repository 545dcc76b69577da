#!/usr/bin/env bash
# Usage: bash .ci/apt-missing.sh NAME "HINT" PACKAGE...
# Installs, with apt, those of PACKAGE... that dpkg does not list as installed, so a second run
# costs a few dpkg queries. Where there is no apt it prints HINT (what to install by hand) and
# succeeds: the tests that need the packages then skip, or fail under ELBO_REQUIRE_*. Run as root.
set -euo pipefail
name=$1
hint=$2
shift 2
packages=("$@")

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "$name: no apt here; $hint" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "$name: ${packages[*]} already installed"
  exit 0
fi
echo "$name: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
