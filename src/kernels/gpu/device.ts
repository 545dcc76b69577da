/**
 * One gpu.js instance in one mode, and the kernels built on it.
 *
 * gpu.js compiles a kernel on its first call (tens of milliseconds to seconds), so kernels are
 * built once per KernelSpec key (op and shape) and kept in a cache. Kernels run in pipeline mode
 * where the mode has device memory: the result stays on the device (a WebGL texture, a WebGPU
 * buffer) and passes straight into the next kernel; it is read back only when asked. Each call
 * gets a buffer of its own (`immutable: true`); without it a kernel would overwrite the result of
 * its previous call, which another tensor may still hold.
 */
import type { GPU, IKernelRunShortcut } from "gpu.js";
import { nodeProcess } from "../environment.ts";
import type { KernelSpec } from "./sources.ts";

/**
 * gpu.js' modes. `webgpu` (WGSL compute shaders: a browser's navigator.gpu, or Dawn in Node),
 * `webgl2` and `webgl` (GLSL fragment shaders in a page) and `headlessgl` (GLSL through the native
 * `gl` package in Node) run shaders; `webasm` (WebAssembly) and `cpu` (plain JavaScript) run the
 * same kernels without a GPU, which is how the kernels are tested where no GPU mode works.
 */
export type GpuMode = "webgpu" | "webgl2" | "webgl" | "headlessgl" | "webasm" | "cpu";

/** The modes that run shaders here, best first: Node's and a page's differ. */
export const shaderModes: readonly GpuMode[] = nodeProcess()
  ? ["webgpu", "headlessgl"]
  : ["webgpu", "webgl2", "webgl"];

/** A kernel result that lives on the device: gpu.js' Texture (GL) or WebGPUBufferResult (WebGPU). */
export interface DeviceArray {
  /** The values, shaped like the kernel's output (nested arrays of rows for 2-D and 3-D). */
  toArray(): unknown;
  /** Free the texture or buffer. */
  delete(): void;
}

export type KernelArgument = Float32Array | DeviceArray;

export type Maybe<T> = T | Promise<T>;

export class Device {
  /** Whether kernel results stay on the device (pipeline mode) rather than coming back as arrays. */
  readonly resident: boolean;
  /** Whether kernel calls return Promises (WebGPU has no synchronous read-back). */
  readonly async: boolean;
  private readonly kernels = new Map<string, CachedKernel>();
  /** Which cached kernel made each device array handed out. */
  private readonly makers = new WeakMap<DeviceArray, CachedKernel>();
  /** Device arrays handed out and not yet deleted: a leak shows as a count that grows. */
  liveArrays = 0;
  private readonly gpu: GPU;

  constructor(
    readonly mode: GpuMode,
    /** gpu.js' GPU in `mode`; typed as an object so that the package's declarations need no gpu.js (an optional peer). */
    gpu: object,
    /** The most kernels kept in the cache; past this the least recently used one is dropped. */
    private readonly cacheLimit = 256,
  ) {
    this.gpu = gpu as GPU;
    this.resident = mode !== "webasm" && mode !== "cpu";
    this.async = mode === "webgpu";
  }

  /**
   * The kernel for `spec` and arguments laid out like `args`. The layout is part of the key
   * because gpu.js' GL modes write each texture argument's size and dimensions into the shader
   * (and fail, rather than rebuild, when a later call brings a texture of another shape).
   */
  private kernel(spec: KernelSpec, args: readonly KernelArgument[]): CachedKernel {
    const key = `${spec.key}|${args.map(layoutOf).join(",")}`;
    const cached = this.kernels.get(key);
    if (cached !== undefined) {
      // Re-insert, so the Map's order is least recently used first.
      this.kernels.delete(key);
      this.kernels.set(key, cached);
      return cached;
    }
    const run = this.gpu
      .createKernel(spec.source, {
        output: spec.output,
        pipeline: this.resident,
        immutable: true,
        precision: "single",
      })
      // Our loops have constant bounds; should gpu.js still guard one with its cap, it must not cut it short.
      .setLoopMaxIterations(Math.max(1000, spec.loop + 1));
    const entry: CachedKernel = { run, live: 0, evicted: false };
    this.kernels.set(key, entry);
    if (this.kernels.size > this.cacheLimit) {
      const [oldest, evicted] = this.kernels.entries().next().value as [string, CachedKernel];
      this.kernels.delete(oldest);
      evicted.evicted = true;
      destroyWhenUnused(evicted);
    }
    return entry;
  }

  /**
   * Run the kernel for `spec` on `args`: a device array in pipeline modes, a flat Float32Array
   * otherwise; a Promise of either in WebGPU mode.
   */
  run(spec: KernelSpec, args: readonly KernelArgument[], size: number): Maybe<KernelArgument> {
    const kernel = this.kernel(spec, args);
    const result = kernel.run(...(args as Float32Array[])) as unknown;
    if (!this.resident) return flatten(result, size);
    const handOut = (array: DeviceArray) => {
      this.makers.set(array, kernel);
      kernel.live++;
      this.liveArrays++;
      return array;
    };
    return result instanceof Promise ? result.then(handOut) : handOut(result as DeviceArray);
  }

  /** Copy a device array's `size` values to the host (asynchronously in WebGPU mode). */
  toHost(array: DeviceArray, size: number): Maybe<Float32Array> {
    const values = array.toArray();
    return values instanceof Promise ? values.then((v) => flatten(v, size)) : flatten(values, size);
  }

  release(array: DeviceArray): void {
    array.delete();
    this.liveArrays--;
    const maker = this.makers.get(array);
    if (maker !== undefined) {
      maker.live--;
      destroyWhenUnused(maker);
    }
  }

  get cachedKernels(): number {
    return this.kernels.size;
  }
}

/** A compiled kernel, and how many of the device arrays it made are still alive. */
interface CachedKernel {
  run: IKernelRunShortcut;
  live: number;
  /** Dropped from the cache: destroy it once nothing it made is alive. */
  evicted: boolean;
}

/**
 * Destroy an evicted kernel once the last array it made is freed: a GL texture is read back
 * through the kernel that rendered it, so destroying the kernel first would strand its results.
 */
function destroyWhenUnused(kernel: CachedKernel): void {
  if (kernel.evicted && kernel.live === 0) kernel.run.destroy();
}

/** "h6" for six numbers on the host, "d3x2" for a device array that a kernel wrote as 3 × 2. */
function layoutOf(arg: KernelArgument): string {
  if (ArrayBuffer.isView(arg)) return `h${arg.length}`;
  return `d${((arg as { output?: number[] }).output ?? []).join("x")}`;
}

/** gpu.js returns 2-D and 3-D outputs as arrays of rows; lay them out flat, row-major, as tensors are. */
function flatten(values: unknown, size: number): Float32Array {
  if (values instanceof Float32Array && values.length === size) return values;
  const out = new Float32Array(size);
  let offset = 0;
  const visit = (v: unknown): void => {
    if (v instanceof Float32Array) {
      out.set(v, offset);
      offset += v.length;
    } else if (Array.isArray(v)) {
      for (const item of v) visit(item);
    } else {
      out[offset++] = v as number;
    }
  };
  visit(values);
  if (offset !== size)
    throw new Error(`gpu backend: a kernel returned ${offset} values where ${size} were expected`);
  return out;
}
