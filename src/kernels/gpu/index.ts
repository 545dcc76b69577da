/**
 * Finding a gpu.js mode that works here, and making the GPU backend on it.
 *
 * gpu.js, Dawn and headless-gl are imported inside the functions below, so importing this module
 * loads none of them, and the registry imports it only when the gpu or auto backend is asked for:
 * a CPU-only user never loads, or breaks on, any of them.
 *
 * The mode is the first of these that works, unless ELBO_GPU_MODE names one:
 *   webgpu      WGSL compute shaders; in Node through Dawn (see webgpu-node.ts)
 *   headlessgl  GLSL fragment shaders through the optional native package `gl` (needs an X display)
 * and, only when named, the modes without a GPU, which run the same kernels:
 *   webasm      WebAssembly
 *   cpu         plain JavaScript
 */
import { GpuBackend } from "./backend.ts";
import { Device, type GpuMode, shaderModes } from "./device.ts";
import { unaryKernel } from "./sources.ts";
import { firstLine, installWebGpu } from "./webgpu-node.ts";

export { GpuBackend } from "./backend.ts";
export { type GpuMode, shaderModes } from "./device.ts";

/** What probing found: a mode that runs shaders, or why there is none. */
export interface GpuProbe {
  mode: GpuMode | null;
  /** The adapter or renderer when a mode was found; otherwise why each mode failed. */
  detail: string;
  /** The shaders run on a software renderer (on the CPU), so they are no faster than the cpu backend. */
  software: boolean;
}

const gpuModes: readonly GpuMode[] = ["webgpu", "headlessgl", "webasm", "cpu"];

/** The mode named by ELBO_GPU_MODE, if any. */
export function modeFromEnvironment(): GpuMode | undefined {
  const name = process.env.ELBO_GPU_MODE;
  if (name === undefined || name === "") return undefined;
  if (!(gpuModes as readonly string[]).includes(name)) {
    throw new Error(`ELBO_GPU_MODE=${name}: choose one of ${gpuModes.join(", ")}`);
  }
  return name as GpuMode;
}

let probed: Promise<GpuProbe> | null = null;

/** The best shader mode available here (probed once per process). */
export function probeGpu(): Promise<GpuProbe> {
  probed ??= probe();
  return probed;
}

async function probe(): Promise<GpuProbe> {
  const failures: string[] = [];
  for (const mode of shaderModes) {
    try {
      const found = await probeMode(mode);
      return { mode, ...found };
    } catch (error) {
      failures.push(`${mode}: ${firstLine(error)}`);
    }
  }
  return { mode: null, detail: failures.join("; "), software: false };
}

/** Whether `mode` can run here: the adapter or renderer it would use, or an Error saying why not. */
export async function probeMode(mode: GpuMode): Promise<{ detail: string; software: boolean }> {
  if (mode === "webgpu") {
    const adapter = await installWebGpu();
    return { detail: `${adapter.description} via Dawn`, software: adapter.software };
  }
  if (mode === "headlessgl") return checkHeadlessGl();
  return { detail: `gpu.js ${mode} mode (no GPU)`, software: true };
}

/** headless-gl: the native `gl` package must be built, and it needs an X display (e.g. Xvfb). */
async function checkHeadlessGl(): Promise<{ detail: string; software: boolean }> {
  const specifier = "gl";
  let createContext: (width: number, height: number) => GlContext | null;
  try {
    createContext = ((await import(specifier)) as { default: typeof createContext }).default;
  } catch (error) {
    throw new Error(
      `the optional native package "gl" is not installed or not built (npm runs its build only when allowed, and it compiles ANGLE from source): ${firstLine(error)}`,
    );
  }
  const gl = createContext(1, 1);
  if (gl === null)
    throw new Error(
      `"gl" could not create a context: is there an X display (DISPLAY=${process.env.DISPLAY ?? "unset"})?`,
    );
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const renderer = String(gl.getParameter(info?.UNMASKED_RENDERER_WEBGL ?? gl.RENDERER));
  gl.getExtension("STACKGL_destroy_context")?.destroy?.();
  if (/llvmpipe|softpipe|swiftshader/i.test(renderer))
    return { detail: `${renderer} via headless-gl`, software: true };
  // headless-gl's ANGLE hides the driver's name; on Linux, no GPU device file means software rendering.
  if (process.platform === "linux" && !(await linuxGpuDevice())) {
    return {
      detail: `${renderer} via headless-gl, on a software renderer (no GPU device in /dev)`,
      software: true,
    };
  }
  return { detail: `${renderer} via headless-gl`, software: false };
}

/** Whether Linux shows a GPU: a DRM render node or an NVIDIA device. */
async function linuxGpuDevice(): Promise<boolean> {
  const { existsSync, readdirSync } = await import("node:fs");
  const dri = existsSync("/dev/dri") ? readdirSync("/dev/dri") : [];
  return dri.some((name) => name.startsWith("renderD")) || existsSync("/dev/nvidia0");
}

interface GlContext {
  readonly RENDERER: number;
  getParameter(name: number): unknown;
  getExtension(name: string): { UNMASKED_RENDERER_WEBGL?: number; destroy?: () => void } | null;
}

const loaded = new Map<GpuMode, Promise<GpuBackend>>();

/**
 * The GPU backend on `mode` (default: ELBO_GPU_MODE, else the best shader mode found here), made
 * once per mode. Throws, saying why, when no shader mode works and none was named.
 */
export async function loadGpuBackend(mode: GpuMode | undefined = modeFromEnvironment()): Promise<GpuBackend> {
  let chosen = mode;
  if (chosen === undefined) {
    const found = await probeGpu();
    if (found.mode === null) {
      throw new Error(
        `gpu backend: no gpu.js mode that runs shaders works here (${found.detail}). Use the cpu backend, or set ELBO_GPU_MODE=webasm or ELBO_GPU_MODE=cpu to run the gpu.js kernels without a GPU.`,
      );
    }
    chosen = found.mode;
  }
  const key = chosen;
  let backend = loaded.get(key);
  if (backend === undefined) {
    backend = create(key);
    loaded.set(key, backend);
    backend.catch(() => loaded.delete(key));
  }
  return backend;
}

async function create(mode: GpuMode): Promise<GpuBackend> {
  const { detail, software } = await probeMode(mode);
  const { GPU } = await import("gpu.js");
  const device = new Device(mode, new GPU({ mode }));
  await smokeTest(device);
  return new GpuBackend(device, detail, software);
}

/** Run one small kernel and check its answer, so a mode that compiles but computes wrongly is caught here. */
async function smokeTest(device: Device): Promise<void> {
  const input = new Float32Array([1, -2, 3]);
  const result = await device.run(unaryKernel("neg", 3), [input], 3);
  const values = ArrayBuffer.isView(result) ? result : await device.toHost(result, 3);
  if (!ArrayBuffer.isView(result)) device.release(result);
  if (values[0] !== -1 || values[1] !== 2 || values[2] !== -3) {
    throw new Error(
      `gpu backend (${device.mode}): a test kernel computed [${Array.from(values)}] instead of [-1, 2, -3]`,
    );
  }
}
