/**
 * Finding a gpu.js mode that works here, and making the GPU backend on it.
 *
 * gpu.js, Dawn and headless-gl are imported inside the functions below, so importing this module
 * loads none of them, and the registry imports it only when the gpu or auto backend is asked for:
 * a CPU-only user never loads, or breaks on, any of them. gpu.js is an optional peer dependency of
 * the package (`npm install gpu.js@2.24.1`; in Node, WebGPU also needs Dawn: `npm install webgpu@0.6.2`).
 *
 * The mode is the first of these that works here, unless ELBO_GPU_MODE (Node) or the `mode`
 * argument of loadGpuBackend names one:
 *   webgpu      WGSL compute shaders: the page's navigator.gpu, or in Node Dawn (see webgpu-node.ts)
 *   webgl2      GLSL fragment shaders in a page's WebGL2 context (float textures)
 *   webgl       the same in WebGL1, where the browser has no WebGL2 (needs OES_texture_float)
 *   headlessgl  (Node) GLSL through the optional native package `gl` (needs an X display)
 * and, only when named, the modes without a GPU, which run the same kernels:
 *   webasm      WebAssembly
 *   cpu         plain JavaScript
 */
import { environmentVariable, importNode, nodeProcess } from "../environment.ts";
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

const gpuModes: readonly GpuMode[] = [...shaderModes, "webasm", "cpu"];

/** The mode named by ELBO_GPU_MODE (Node), if any. */
export function modeFromEnvironment(): GpuMode | undefined {
  const name = environmentVariable("ELBO_GPU_MODE");
  if (name === undefined) return undefined;
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
    const via = nodeProcess() ? "Dawn" : "the browser's WebGPU";
    return { detail: `${adapter.description} via ${via}`, software: adapter.software };
  }
  if (mode === "headlessgl") return checkHeadlessGl();
  if (mode === "webgl2" || mode === "webgl") return checkWebGl(mode);
  return { detail: `gpu.js ${mode} mode (no GPU)`, software: true };
}

const softwareRenderers = /llvmpipe|softpipe|swiftshader|lavapipe|microsoft basic render/i;

/** WebGL in a page: a context of this version, float textures, and the renderer's name. */
function checkWebGl(mode: "webgl2" | "webgl"): { detail: string; software: boolean } {
  const page = globalThis as {
    OffscreenCanvas?: new (width: number, height: number) => { getContext(kind: string): GlContext | null };
  };
  if (nodeProcess() || page.OffscreenCanvas === undefined)
    throw new Error(`${mode} runs only in a browser (no OffscreenCanvas here)`);
  const gl = new page.OffscreenCanvas(1, 1).getContext(mode === "webgl2" ? "webgl2" : "webgl");
  if (gl === null) throw new Error(`this browser gives no ${mode} context (disabled, or no GPU process)`);
  const floats = mode === "webgl2" ? "EXT_color_buffer_float" : "OES_texture_float";
  if (gl.getExtension(floats) === null)
    throw new Error(`${mode} here lacks ${floats}, which float32 kernels need`);
  const renderer = rendererOf(gl);
  gl.getExtension("WEBGL_lose_context")?.loseContext?.();
  return { detail: `${renderer} via ${mode}`, software: softwareRenderers.test(renderer) };
}

function rendererOf(gl: GlContext): string {
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return String(gl.getParameter(info?.UNMASKED_RENDERER_WEBGL ?? gl.RENDERER));
}

/** headless-gl: the native `gl` package must be built, and it needs an X display (e.g. Xvfb). */
async function checkHeadlessGl(): Promise<{ detail: string; software: boolean }> {
  const specifier = "gl";
  let createContext: (width: number, height: number) => GlContext | null;
  try {
    createContext = (await importNode<{ default: typeof createContext }>(specifier)).default;
  } catch (error) {
    throw new Error(
      `the optional native package "gl" is not installed or not built (npm runs its build only when allowed, and it compiles ANGLE from source): ${firstLine(error)}`,
    );
  }
  const gl = createContext(1, 1);
  if (gl === null)
    throw new Error(
      `"gl" could not create a context: is there an X display (DISPLAY=${environmentVariable("DISPLAY") ?? "unset"})?`,
    );
  const renderer = rendererOf(gl);
  gl.getExtension("STACKGL_destroy_context")?.destroy?.();
  if (softwareRenderers.test(renderer)) return { detail: `${renderer} via headless-gl`, software: true };
  // headless-gl's ANGLE hides the driver's name; on Linux, no GPU device file means software rendering.
  if (nodeProcess()?.platform === "linux" && !(await linuxGpuDevice())) {
    return {
      detail: `${renderer} via headless-gl, on a software renderer (no GPU device in /dev)`,
      software: true,
    };
  }
  return { detail: `${renderer} via headless-gl`, software: false };
}

/** Whether Linux shows a GPU: a DRM render node or an NVIDIA device. */
async function linuxGpuDevice(): Promise<boolean> {
  const { existsSync, readdirSync } = await importNode<typeof import("node:fs")>("node:fs");
  const dri = existsSync("/dev/dri") ? readdirSync("/dev/dri") : [];
  return dri.some((name) => name.startsWith("renderD")) || existsSync("/dev/nvidia0");
}

/** The part of a WebGL context (a page's, or headless-gl's) that probing touches. */
interface GlContext {
  readonly RENDERER: number;
  getParameter(name: number): unknown;
  getExtension(
    name: string,
  ): { UNMASKED_RENDERER_WEBGL?: number; destroy?: () => void; loseContext?: () => void } | null;
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
  const device = new Device(mode, new (await loadGpuJs())({ mode }));
  await smokeTest(device);
  return new GpuBackend(device, detail, software);
}

/**
 * gpu.js' GPU class. A bundler for the browser takes gpu.js' UMD build, whose exports arrive as
 * the module's default; Node's ESM loader names them. A missing gpu.js (it is an optional peer
 * dependency) is said plainly.
 */
async function loadGpuJs(): Promise<typeof import("gpu.js").GPU> {
  let loaded: { GPU?: typeof import("gpu.js").GPU; default?: { GPU?: typeof import("gpu.js").GPU } };
  try {
    loaded = await import("gpu.js");
  } catch (error) {
    throw new Error(
      `gpu backend: gpu.js could not be loaded (${firstLine(error)}); it is an optional peer dependency: npm install gpu.js@2.24.1`,
    );
  }
  const GPU = loaded.GPU ?? loaded.default?.GPU;
  if (GPU === undefined) throw new Error("gpu backend: the gpu.js module here exports no GPU class");
  return GPU;
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
