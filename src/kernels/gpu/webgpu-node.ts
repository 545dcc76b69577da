/**
 * WebGPU for gpu.js in Node. gpu.js looks for the browser's `navigator.gpu`; in Node we make one
 * from Dawn (Chrome's WebGPU implementation, shipped as the `webgpu` npm package).
 *
 * Dawn is asked in two ways, best first:
 * 1. Its default backends (Vulkan, Metal, D3D12): a real GPU.
 * 2. Its OpenGL backend through EGL with no window system (EGL_PLATFORM=surfaceless). On a machine
 *    without a GPU, Mesa answers with llvmpipe, a software rasterizer on the CPU: the shaders are
 *    compiled and run for real, just not on a GPU. Dawn's OpenGL backend only offers WebGPU's
 *    "compatibility" feature level, which must be asked for, and gpu.js asks with no options, so
 *    our navigator.gpu adds them.
 */
import { importNode, nodeProcess } from "../environment.ts";

export interface WebGpuAdapterReport {
  /** What the driver calls itself, e.g. "llvmpipe (OpenGL version 4.5 (Core Profile) Mesa 22.3.6)". */
  description: string;
  /** A software renderer (llvmpipe, lavapipe, SwiftShader): shaders run, but on the CPU. */
  software: boolean;
  /** Which of Dawn's ways answered. */
  via: "default" | "opengl";
}

/** The slice of WebGPU's GPU and GPUAdapter that this file touches. */
interface DawnGpu {
  requestAdapter(options?: Record<string, unknown>): Promise<DawnAdapter | null>;
  readonly wgslLanguageFeatures?: unknown;
}
interface DawnAdapter {
  readonly info: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallbackAdapter?: boolean;
  };
}
interface DawnModule {
  create(flags: string[]): DawnGpu;
}

const softwareRenderers = /llvmpipe|lavapipe|softpipe|swiftshader/i;

// Kept here so the Dawn instance lives as long as the process (gpu.js holds only navigator.gpu).
let installed: Promise<WebGpuAdapterReport> | null = null;

/**
 * Make `navigator.gpu` answer with a working adapter, or throw saying why not. Idempotent.
 * In a browser (navigator.gpu already there) it only checks for an adapter.
 */
export function installWebGpu(): Promise<WebGpuAdapterReport> {
  installed ??= install();
  return installed;
}

async function install(): Promise<WebGpuAdapterReport> {
  const nav = (globalThis as { navigator?: { gpu?: DawnGpu } }).navigator;
  if (nav?.gpu !== undefined) {
    const adapter = await nav.gpu.requestAdapter();
    if (adapter === null) throw new Error("navigator.gpu is present but offers no adapter");
    return report(adapter, "default");
  }
  const node = nodeProcess();
  if (node === undefined) throw new Error("this browser offers no WebGPU (navigator.gpu is missing)");

  // A variable specifier keeps the package's global WebGPU type declarations out of this project,
  // and Dawn (Node only) out of a page's bundle.
  const specifier = "webgpu";
  let dawn: DawnModule;
  try {
    dawn = await importNode<DawnModule>(specifier);
  } catch (error) {
    throw new Error(
      `the "webgpu" package (Dawn for Node, an optional peer dependency) could not be loaded: ${firstLine(error)}. Install the version elbo is tested with, npm install webgpu@0.6.2, and keep gpu.js' older copy out with "overrides": { "webgpu": "0.6.2" } in package.json`,
    );
  }

  const tried: string[] = [];
  const defaultGpu = dawn.create([]);
  const real = await defaultGpu.requestAdapter({ powerPreference: "high-performance" });
  if (real !== null) return publish(defaultGpu, {}, report(real, "default"));
  tried.push("Dawn's Vulkan/Metal/D3D12 backends found no adapter");

  // Mesa reads this when Dawn opens EGL; an explicit setting (e.g. a real display) wins.
  node.env.EGL_PLATFORM ??= "surfaceless";
  const glGpu = dawn.create(["backend=opengl"]);
  const options = { featureLevel: "compatibility" };
  const gl = await glGpu.requestAdapter(options);
  if (gl !== null) return publish(glGpu, options, report(gl, "opengl"));
  tried.push(
    `its OpenGL backend found none either (EGL_PLATFORM=${node.env.EGL_PLATFORM}; it needs Mesa's EGL under the name libEGL.so: on Debian the packages libegl-dev libegl-mesa0 libgl1-mesa-dri, see .ci/gpu-deps.sh)`,
  );
  throw new Error(tried.join("; "));
}

/** Install `gpu` as navigator.gpu, adding `options` to every adapter request. */
function publish(
  gpu: DawnGpu,
  options: Record<string, unknown>,
  found: WebGpuAdapterReport,
): WebGpuAdapterReport {
  const facade = {
    requestAdapter: (more?: Record<string, unknown>) => gpu.requestAdapter({ ...options, ...more }),
    // Only graphical kernels ask; ours compute.
    getPreferredCanvasFormat: () => "rgba8unorm",
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
  };
  const g = globalThis as { navigator?: object };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, "navigator", {
      value: { gpu: facade },
      configurable: true,
      writable: true,
    });
  } else {
    Object.defineProperty(g.navigator, "gpu", { value: facade, configurable: true });
  }
  return found;
}

function report(adapter: DawnAdapter, via: WebGpuAdapterReport["via"]): WebGpuAdapterReport {
  const { vendor, device, description, isFallbackAdapter } = adapter.info;
  const name = [vendor, device].filter((s) => s !== "").join(" ") || "unnamed adapter";
  return {
    description: description === "" ? name : `${name} (${description})`,
    software: isFallbackAdapter === true || softwareRenderers.test(`${device} ${description}`),
    via,
  };
}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}
