#!/usr/bin/env bash
# System packages the GPU tests need, for a Debian/Ubuntu machine with or without a GPU: Mesa's
# EGL and its llvmpipe software rasterizer. On them Dawn (the `webgpu` npm package, installed by
# npm ci) runs WebGPU through its OpenGL backend, so gpu.js' webgpu mode compiles and runs real
# WGSL shaders even where there is no GPU. The code sets EGL_PLATFORM=surfaceless itself.
#
# Installs only what is missing, so a second run costs a few dpkg queries. Run it as root.
# To make a run without a working shader path fail rather than skip: ELBO_REQUIRE_SHADERS=1 npm test.
set -euo pipefail

# Dawn dlopens "libEGL.so", the unversioned name that only libegl-dev provides.
packages=(libegl1 libegl-dev libegl-mesa0 libgbm1 libgl1-mesa-dri libgles2)

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "gpu-deps: no apt here; install Mesa's EGL and llvmpipe (or a GPU driver) yourself" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "gpu-deps: ${packages[*]} already installed"
  exit 0
fi
echo "gpu-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
