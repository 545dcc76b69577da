#!/usr/bin/env bash
# System packages the GPU tests need, for a Debian/Ubuntu machine with or without a GPU: Mesa's
# EGL and its llvmpipe software rasterizer. On them Dawn (the `webgpu` npm package, installed by
# npm ci) runs WebGPU through its OpenGL backend, so gpu.js' webgpu mode compiles and runs real
# WGSL shaders even where there is no GPU. The code sets EGL_PLATFORM=surfaceless itself.
#
# Installs only what is missing (.ci/apt-missing.sh). Run it as root.
# To make a run without a working shader path fail rather than skip: ELBO_REQUIRE_SHADERS=1 npm test.
set -euo pipefail

# Dawn dlopens "libEGL.so", the unversioned name that only libegl-dev provides.
packages=(libegl1 libegl-dev libegl-mesa0 libgbm1 libgl1-mesa-dri libgles2)

bash "$(dirname "$0")/apt-missing.sh" gpu-deps "install Mesa's EGL and llvmpipe (or a GPU driver) yourself" "${packages[@]}"
