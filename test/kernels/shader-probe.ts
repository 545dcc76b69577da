/**
 * Which gpu.js shader mode the gpu tests run in: ELBO_GPU_MODE if set, else the best one that works
 * here (WebGPU through Dawn; without a GPU, on Mesa's llvmpipe). One per process: a headless-gl
 * context on the main thread breaks Dawn's OpenGL backend in the same process.
 * With ELBO_REQUIRE_SHADERS=1 (CI, after .ci/gpu-deps.sh) a test that finds none must fail.
 */
import {
  type GpuMode,
  modeFromEnvironment,
  probeGpu,
  probeMode,
  shaderModes,
} from "../../src/kernels/gpu/index.ts";

export interface ShaderProbe {
  /** The shader mode that works here, or null. */
  shaderMode: GpuMode | null;
  /** The adapter or renderer, or why no shader mode runs. */
  detail: string;
  /** For test titles: where the shaders run. */
  title: string;
  /** ELBO_REQUIRE_SHADERS=1: running without shaders is a failure, not a skip. */
  required: boolean;
}

export async function shaderProbe(): Promise<ShaderProbe> {
  const required = process.env.ELBO_REQUIRE_SHADERS === "1";
  const named = modeFromEnvironment();
  let shaderMode: GpuMode | null = null;
  let detail: string;
  if (named === undefined) {
    const found = await probeGpu();
    shaderMode = found.mode;
    detail = found.detail;
  } else if (!shaderModes.includes(named)) {
    detail = `ELBO_GPU_MODE=${named} names a mode without shaders`;
  } else {
    try {
      detail = (await probeMode(named)).detail;
      shaderMode = named;
    } catch (error) {
      detail = `ELBO_GPU_MODE=${named}: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  if (shaderMode === null) console.warn(`GPU tests: the SHADER PATH DID NOT RUN (${detail})`);
  const title = shaderMode === null ? `no shader mode (${detail})` : `gpu.js ${shaderMode} mode on ${detail}`;
  return { shaderMode, detail, title, required };
}
