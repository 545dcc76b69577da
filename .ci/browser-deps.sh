#!/usr/bin/env bash
# The browser the package test drives: Debian's `chromium` (test/browser/chromium.ts launches it
# through playwright-core, headless, with WebGL on SwiftShader and WebGPU where it offers it).
# Installs only what is missing (.ci/apt-missing.sh). Run it as root.
# To make a run without Chromium fail rather than skip the browser tests: ELBO_REQUIRE_BROWSER=1 npm test.
set -euo pipefail

packages=(chromium)

bash "$(dirname "$0")/apt-missing.sh" browser-deps "install Chromium yourself and set CHROMIUM=/path/to/it" "${packages[@]}"
