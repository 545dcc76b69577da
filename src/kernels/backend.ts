/**
 * The Backend interface: the small set of primitives every op of the autodiff engine runs on.
 *
 * Autograd calls only these methods and never looks inside a Storage, so a backend can keep its
 * numbers anywhere — typed arrays (cpu), WebAssembly memory (wasm), GPU textures or buffers (gpu) —
 * and the same model runs on any of them. In the spirit of MiniTorch (map / zip / reduce /
 * matrix multiply) and tinygrad: keep the set small and compose everything else in autograd.
 *
 * Every array is row-major and contiguous; shapes travel beside the storage as plain arrays.
 */

import type { Program } from "../compile/program.ts";
import type { GpuMode } from "./gpu/device.ts";

export type DType = "float32" | "float64";
export type TypedArray = Float32Array | Float64Array;
export type Shape = readonly number[];

/**
 * An opaque handle to a backend's buffer of `size` numbers of `dtype`. Only the backend that made
 * it may look inside; everyone else passes it back to that backend.
 */
export interface Storage {
  readonly dtype: DType;
  readonly size: number;
}

/** Elementwise maps of one input (MiniTorch's `map`). */
export type UnaryOp =
  | "neg"
  | "exp"
  | "log"
  | "sqrt"
  | "relu"
  | "sigmoid"
  | "tanh"
  | "softplus"
  | "abs"
  | "sign";

/**
 * Elementwise maps of two inputs with NumPy broadcasting (MiniTorch's `zip`).
 * `pow` is a^b; the comparisons `eq` (a == b) and `lt` (a < b) are 1 where true, else 0 (false
 * for NaN): the masks that route gradients. `max` and `min` are NumPy's maximum and minimum.
 */
export type BinaryOp = "add" | "sub" | "mul" | "div" | "pow" | "max" | "min" | "eq" | "lt";

export type ReduceOp = "sum" | "max";

/** How many buffers a backend holds alive now, and their bytes: a leak shows as a count that grows. */
export interface MemoryInfo {
  buffers: number;
  bytes: number;
}

/**
 * What runs a backend, as `getBackend().describe()` tells it: for a program to print or to choose
 * by, and for a person to know what a figure was measured on.
 */
export interface BackendDescription {
  /** "cpu", "wasm", "gpu", ... (the backend's `name`). */
  name: string;
  /** Threads that share the large kernels: the wasm backend's workers, else 1. */
  threads: number;
  /** The gpu.js mode the gpu backend runs on ("webgpu", "webgl2", ...); null on other backends. */
  gpuMode: GpuMode | null;
  /** The GPU adapter or renderer as its driver names it (gpu backend); null on other backends. */
  device: string | null;
  /** True when a gpu backend's shaders run on a software renderer (SwiftShader, llvmpipe), on the CPU: no faster than the cpu backends. */
  softwareRenderer: boolean;
  /** One line for people: "wasm, 2 threads, relaxed-SIMD fused multiply-adds". */
  summary: string;
}

export interface Backend {
  /** "cpu", "wasm", "gpu", ... */
  readonly name: string;
  /** True when results may still be in flight, so reads must be awaited (`read`) rather than `readSync`. */
  readonly asyncRead: boolean;
  /** What runs this backend: threads, gpu.js mode, device and whether it is a software renderer. */
  describe(): BackendDescription;

  /** A new storage holding a copy of `data`, in `data`'s dtype. */
  fromArray(data: TypedArray): Storage;
  /** A new storage of `size` copies of `value`. */
  fill(size: number, value: number, dtype: DType): Storage;
  /** The values, once they are ready. Always works. */
  read(x: Storage): Promise<TypedArray>;
  /** The values now; throws on a backend whose results arrive asynchronously. */
  readSync(x: Storage): TypedArray;
  /** Free the buffer now; using it afterwards is an error. Disposing twice is harmless. */
  dispose(x: Storage): void;
  memory(): MemoryInfo;

  /** A copy of the values, in the same dtype (every tensor owns its storage, so ops that keep values copy them). */
  copy(x: Storage): Storage;
  /**
   * Overwrite `dst`'s values with `src`'s, in place (one size and dtype): an optimizer's update of
   * a parameter, which keeps its storage, so that anything holding that storage (a compiled step)
   * sees the new values.
   */
  write(dst: Storage, src: Storage): void;
  /** The values converted to `dtype` (rounded to nearest when narrowing), in a new storage. */
  cast(x: Storage, dtype: DType): Storage;

  unary(op: UnaryOp, x: Storage): Storage;
  /** out = a op b, where `aShape` and `bShape` broadcast to `outShape` by NumPy rules. */
  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage;
  /**
   * Reduce over `axes` of `shape` (sorted, distinct). The result holds the kept dimensions in order;
   * its layout is the same with or without keepdims, so the caller picks the shape it reports.
   */
  reduce(op: ReduceOp, x: Storage, shape: Shape, axes: readonly number[]): Storage;
  /** Copy of `x` (of shape `shape`) repeated along size-1 dimensions to `outShape` (NumPy broadcast_to). */
  broadcastTo(x: Storage, shape: Shape, outShape: Shape): Storage;
  /** The axes of `x` reordered: out.shape[i] = shape[perm[i]]. */
  permute(x: Storage, shape: Shape, perm: readonly number[]): Storage;

  /**
   * `batch` matrix products C = op(A) · op(B), op(X) = Xᵀ when its flag is set (see MatmulShape);
   * a plain 2-D product is a batch of one. The flags let backward use Aᵀ·G and G·Bᵀ without ever
   * materialising a transpose.
   */
  matmul(a: Storage, b: Storage, shape: MatmulShape): Storage;

  /**
   * out = cond ≠ 0 ? a : b elementwise, the three broadcast to `outShape` by NumPy rules. A select,
   * not arithmetic: an Infinity or NaN on the side not taken never reaches the result.
   */
  where(
    cond: Storage,
    condShape: Shape,
    a: Storage,
    aShape: Shape,
    b: Storage,
    bShape: Shape,
    outShape: Shape,
  ): Storage;

  /**
   * Along `axis` of `x` (of `shape`): out[…, i, …] = x[…, indices[i], …], so out has shape with
   * indices.length at `axis` (NumPy's take). Indices may repeat; each must be in [0, shape[axis]).
   */
  gather(x: Storage, shape: Shape, axis: number, indices: Int32Array): Storage;
  /**
   * The adjoint of gather: zeros of `shape` with `size` at `axis`, then x[…, i, …] added at
   * out[…, indices[i], …] (`shape` is x's, with indices.length at `axis`).
   */
  scatterAdd(x: Storage, shape: Shape, axis: number, indices: Int32Array, size: number): Storage;

  /**
   * Optional: a compiled step (src/compile: the backend calls one run of it made) as this backend's
   * own program, which at each call takes the step's inputs and gives the storages of its results,
   * in order. Without it, a compiled step replays the calls one by one (src/compile/replay.ts).
   */
  lower?(program: Program): LoweredProgram;

  // --- Optional fused kernels ----------------------------------------------------------------
  // A backend may offer these to do in one pass over memory what would otherwise take several
  // ops and as many temporary buffers. Each may decline a call it has no kernel for (a dtype, say)
  // by returning undefined: the caller then composes the same computation from the primitives
  // above, so no backend carries a composed copy of its own.

  /**
   * Adam's update of one parameter, in place and in one pass (PyTorch's semantics). With
   * g = grad + weightDecay·param (just grad when weightDecay is 0), and `corrections` holding the
   * two numbers [c₂, s] = [1 − β₂ᵗ, lr / (1 − β₁ᵗ)] of step t (in the parameter's dtype):
   *   m ← m·β₁ + g·(1 − β₁);   v ← v·β₂ + g²·(1 − β₂);   param ← param − m / (√(v / c₂) + ε) · s
   * `param`, `m` and `v` are overwritten (start m and v at zeros); all four have the same size and
   * dtype. Each constant is rounded to the dtype and each operation is done in the order written,
   * so the result equals, bit for bit, that formula composed from `binary` and `unary` ops. The
   * step's numbers come in a storage, not as arguments, so that a compiled step computes them on
   * the host at every call while the kernel's other arguments stay fixed.
   * Returns a storage whose numbers sum to 0 when every number written (param, m and v) is finite,
   * else to NaN: the kernel sees each one anyway, and a divergence guard would otherwise make
   * another pass over all three to learn it. Undefined: declined, nothing written.
   */
  adamUpdate?(
    param: Storage,
    grad: Storage,
    m: Storage,
    v: Storage,
    corrections: Storage,
    hyper: AdamHyperparameters,
  ): Storage | undefined;

  /**
   * Binary cross-entropy from logits ℓ and targets t of one size and dtype, summed, in one pass:
   *   Σᵢ softplus(ℓᵢ) − tᵢ·ℓᵢ      (one number)
   * Each term is what `unary("softplus")`, `binary("mul")` and `binary("sub")` give, bit for bit;
   * the terms may be added in any order (within the sum bound of precision.ts).
   */
  bceWithLogitsSum?(logits: Storage, target: Storage): Storage | undefined;
  /**
   * The gradient of that sum, scaled by the one number g: (σ(ℓᵢ) − tᵢ)·g for every element, in one
   * pass; bit for bit what `unary("sigmoid")`, `binary("sub")` and `binary("mul")` give.
   */
  bceWithLogitsGrad?(logits: Storage, target: Storage, g: Storage): Storage | undefined;
}

/**
 * The shape of `batch` matrix products C = op(A)·op(B), each C m×n: A holds the batch's matrices
 * one after another, each stored m×k (k×m when transA), B likewise k×n (n×k when transB), and C
 * the results.
 */
export interface MatmulShape {
  batch: number;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
}

/** The numbers that Adam's update keeps from step to step (see Backend.adamUpdate). */
export interface AdamHyperparameters {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** A compiled step as a backend runs it (Backend.lower). */
export interface LoweredProgram {
  /** The storages of this call's inputs in, those of its results out, in order. */
  run(inputs: readonly Storage[]): Storage[];
  /** What the backend made of the program (kernels, what was fused, the memory it holds). */
  describe(): string;
}
