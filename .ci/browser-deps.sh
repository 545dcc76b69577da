#!/usr/bin/env bash
# The browser the package test drives: Debian's `chromium` (test/browser/chromium.ts launches it
# through playwright-core, headless, with WebGL on SwiftShader and WebGPU where it offers it).
# Installs only what is missing, so a second run costs one dpkg query. Run it as root.
# To make a run without Chromium fail rather than skip the browser tests: ELBO_REQUIRE_BROWSER=1 npm test.
set -euo pipefail

packages=(chromium)

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "browser-deps: no apt here; install Chromium yourself and set CHROMIUM=/path/to/it" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "browser-deps: ${packages[*]} already installed"
  exit 0
fi
echo "browser-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
