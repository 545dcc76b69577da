/**
 * `elbojs/gpu`: the gpu.js backend on a gpu.js mode of your choosing (webgpu, webgl2, webgl,
 * headlessgl, webasm, cpu), and what probing finds. `useBackend("gpu")` needs none of this; it
 * takes the best mode that runs shaders here.
 */
export type { GpuMode, GpuProbe } from "./kernels/gpu/index.ts";
export { GpuBackend, loadGpuBackend, probeGpu, probeMode, shaderModes } from "./kernels/gpu/index.ts";
export { elementwiseTolerance, sumTolerance, unitRoundoff } from "./kernels/gpu/precision.ts";
