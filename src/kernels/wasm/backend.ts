/**
 * The WebAssembly backend: every storage is a block of one WebAssembly.Memory, and the float32
 * kernels the training step spends its time in — matmul, elementwise maps, reductions — are SIMD
 * WebAssembly (kernels-*.ts). Everything else, and all of float64 (used by gradient checks, where
 * speed does not matter), runs the plain TypeScript reference kernels on typed-array views of the
 * same memory, so every op of the Backend interface works here with the reference's semantics.
 *
 * Memory: blocks come from a pool (pool.ts) and go back to it on dispose(), so a training loop
 * that calls releaseGraph() after each step reuses the same blocks every step and allocates
 * nothing; storages dropped without dispose() are returned when the garbage collector finds them.
 *
 * Threads: a large matmul is split between this thread and worker threads sharing the memory
 * (threads.ts); below `parallelFlops` one thread does it all, because handing out work costs a
 * few microseconds.
 */
import type {
  AdamHyperparameters,
  Backend,
  BackendDescription,
  BatchedMatmulShape,
  BinaryOp,
  DType,
  MemoryInfo,
  ReduceOp,
  Shape,
  Storage,
  TypedArray,
  UnaryOp,
} from "../backend.ts";
import { mapInto, whereInto, zipInto } from "../cpu/elementwise.ts";
import { batchedMatmulInto } from "../cpu/matmul.ts";
import { permuteInto, reduceInto } from "../cpu/reduce.ts";
import { gatherInto, scatterAddInto, withAxisSize } from "../gather.ts";
import { broadcastStrides, sizeOf } from "../shape.ts";
import { collapse, forEachIndex } from "./collapse.ts";
import {
  binaryKernels,
  binaryName,
  type RowMode,
  rowModes,
  unaryKernels,
  unaryName,
  type WasmBinaryOp,
  type WasmUnaryOp,
} from "./kernels-elementwise.ts";
import { MR, matmulBlockArgs, matmulScratchBytes, NR, SKIP_A, SKIP_B, SKIP_NONE } from "./kernels-matmul.ts";
import { type Kernels, MAX_PAGES, moduleBytes, PAGE_BYTES, relaxedSimdSupported } from "./module.ts";
import { Pool, type PoolInfo } from "./pool.ts";
import { chooseSkip, DEFAULT_SPARSE_ZEROS, sampledZeroShare } from "./sparsity.ts";
import { defaultThreadCount, sharedMemorySupported } from "./spawn.ts";
import { CONTROL_BYTES, Threads } from "./threads.ts";
import { type WasmMemory, type WasmModule, WebAssemblyApi } from "./wasm-api.ts";

export interface WasmOptions {
  /** Threads that run kernels, this one included. Default: ELBO_THREADS, else every core. */
  threads?: number;
  /** A matmul of fewer flops (2·m·k·n) than this runs on one thread. */
  parallelFlops?: number;
  /**
   * Elementwise ops (exp and friends, binary ops on one block of rows), column sums and Adam's
   * update of fewer numbers than this run on one thread.
   */
  parallelElements?: number;
  /**
   * A matmul skips the zeros of an operand whose sampled share of zeros is at least this
   * (default 0.6: see sparsity.ts); above 1, never; 0, always, whatever the product's size.
   */
  sparseZeros?: number;
  /**
   * Fused multiply-adds (relaxed SIMD) in matmul. Default: where the engine has them (Chrome 114+,
   * Node 22+; Node 20 with --experimental-wasm-relaxed-simd). Results then round once per
   * multiply-add instead of twice: as close to the reference, not bit-identical to the plain path.
   */
  relaxedSimd?: boolean;
  /** How long an idle worker polls for the next job before it sleeps, in ms (default 1). */
  spinMs?: number;
}

/** Products with fewer outputs than this do not look for zeros (sampling would cost more than it saves), unless sparseZeros is 0. */
const SPARSE_MIN_OUTPUT = 1024;

/** The address where the pool starts: below it, one control block per worker. */
const POOL_BASE = PAGE_BYTES;
const INITIAL_PAGES = 256; // 16 MiB, grown on demand

/** The bytes a block holds, and where: what the pool needs back when the storage goes. */
interface Block {
  address: number;
  bytes: number;
}

export class WasmStorage implements Storage {
  disposed = false;
  constructor(
    readonly dtype: DType,
    readonly size: number,
    readonly block: Block,
  ) {}
}

const bytesPer = (dtype: DType) => (dtype === "float64" ? 8 : 4);

export class WasmBackend implements Backend {
  readonly name = "wasm";
  readonly asyncRead = false;
  /** Flops below which a matmul stays on one thread. */
  parallelFlops: number;
  /** Array length below which exp and friends stay on one thread. */
  parallelElements: number;
  /** Share of zeros from which a matmul skips an operand's zeros (see WasmOptions). */
  sparseZeros: number;
  /** Whether matmul's multiply-adds are fused (relaxed SIMD; see WasmOptions). */
  readonly relaxedSimd: boolean;

  private f32: Float32Array;
  private f64: Float64Array;
  private live = 0;
  private liveBytes = 0;
  private readonly collected = new FinalizationRegistry<Block>((block) => this.release(block));
  private readonly unaryFns: ReadonlyMap<UnaryOp, (x: number, out: number, n: number) => void>;
  private readonly binaryFns: ReadonlyMap<string, (...args: number[]) => void>;
  /** Per thread: its packing buffers for matmul (grown on demand, kept). */
  private readonly scratch: Block[] = [];
  private readonly pool: Pool;

  constructor(
    private readonly wasmMemory: WasmMemory,
    private readonly kernels: Kernels,
    private threads: Threads | null,
    options: WasmOptions,
  ) {
    this.parallelFlops = options.parallelFlops ?? 1e6;
    this.parallelElements = options.parallelElements ?? 16384;
    this.sparseZeros = options.sparseZeros ?? DEFAULT_SPARSE_ZEROS;
    this.relaxedSimd = options.relaxedSimd ?? false;
    this.pool = new Pool(wasmMemory, POOL_BASE, () => this.remakeViews());
    this.f32 = new Float32Array(wasmMemory.buffer);
    this.f64 = new Float64Array(wasmMemory.buffer);
    this.unaryFns = new Map(
      Object.keys(unaryKernels).map((op) => [op as UnaryOp, kernels[unaryName(op as WasmUnaryOp)]]),
    );
    const binary = new Map<string, (...args: number[]) => void>();
    for (const op of Object.keys(binaryKernels) as WasmBinaryOp[]) {
      for (const mode of ["vv", "vs", "sv"] as const)
        binary.set(binaryName(op, mode), kernels[binaryName(op, mode)]);
    }
    this.binaryFns = binary;
  }

  /** Threads that share a large matmul (1 when there are no workers). */
  get threadCount(): number {
    return this.threads?.count ?? 1;
  }

  describe(): BackendDescription {
    const threads = this.threadCount;
    return {
      name: this.name,
      threads,
      gpuMode: null,
      device: null,
      softwareRenderer: false,
      summary: `wasm, ${threads} thread${threads === 1 ? "" : "s"}, ${this.relaxedSimd ? "relaxed-SIMD fused multiply-adds" : "SIMD128"}`,
    };
  }

  /** The pool's view of memory: what is reserved, free, and the memory's size. */
  poolInfo(): PoolInfo {
    return this.pool.info();
  }

  /** Stop the worker threads; afterwards this backend runs everything on the calling thread. */
  async terminate(): Promise<void> {
    await this.threads?.terminate();
    this.threads = null;
  }

  private remakeViews(): void {
    this.f32 = new Float32Array(this.wasmMemory.buffer);
    this.f64 = new Float64Array(this.wasmMemory.buffer);
  }

  // --- storages -------------------------------------------------------------------------------

  private allocate(size: number, dtype: DType): WasmStorage {
    const bytes = size * bytesPer(dtype);
    const block = { address: this.pool.allocate(bytes), bytes };
    const s = new WasmStorage(dtype, size, block);
    this.live++;
    this.liveBytes += bytes;
    this.collected.register(s, block, s);
    return s;
  }

  private release(block: Block): void {
    this.pool.free(block.address, block.bytes);
    this.live--;
    this.liveBytes -= block.bytes;
  }

  /** The storage as ours, with a clear error if it is not or was disposed. */
  private check(x: Storage): WasmStorage {
    if (!(x instanceof WasmStorage)) throw new Error("wasm backend: got a storage made by another backend");
    if (x.disposed) throw new Error("wasm backend: storage used after dispose()");
    return x;
  }

  /** A typed-array view of a storage's numbers (valid until the memory next grows). */
  private view(x: WasmStorage): TypedArray {
    const start = x.block.address / bytesPer(x.dtype);
    return (x.dtype === "float64" ? this.f64 : this.f32).subarray(start, start + x.size);
  }

  /** Address of a float32 storage's first number, for kernels. */
  private address(x: Storage): number {
    return this.check(x).block.address;
  }

  fromArray(data: TypedArray): Storage {
    const out = this.allocate(data.length, data instanceof Float64Array ? "float64" : "float32");
    this.view(out).set(data);
    return out;
  }

  fill(size: number, value: number, dtype: DType): Storage {
    const out = this.allocate(size, dtype);
    this.view(out).fill(value);
    return out;
  }

  read(x: Storage): Promise<TypedArray> {
    return Promise.resolve(this.readSync(x));
  }

  readSync(x: Storage): TypedArray {
    return this.view(this.check(x)).slice();
  }

  dispose(x: Storage): void {
    if (!(x instanceof WasmStorage) || x.disposed) return;
    x.disposed = true;
    this.collected.unregister(x);
    this.release(x.block);
  }

  memory(): MemoryInfo {
    return { buffers: this.live, bytes: this.liveBytes };
  }

  cast(x: Storage, dtype: DType): Storage {
    const src = this.check(x);
    const out = this.allocate(src.size, dtype);
    this.view(out).set(this.view(src));
    return out;
  }

  // --- elementwise ----------------------------------------------------------------------------

  unary(op: UnaryOp, x: Storage): Storage {
    const src = this.check(x);
    const out = this.allocate(src.size, src.dtype);
    const kernel = this.unaryFns.get(op);
    if (src.dtype !== "float32" || kernel === undefined) {
      mapInto(op, this.view(src), this.view(out));
    } else if (op in expensiveUnary) {
      // exp and friends cost a few ns per number: large arrays are worth sharing out, in
      // slices of whole vectors.
      const jobs = evenSplit(src.size, this.partsFor(src.size), 4).map(([lo, hi]) => [
        src.block.address + 4 * lo,
        out.block.address + 4 * lo,
        hi - lo,
      ]);
      this.runJobs(unaryName(op as WasmUnaryOp), jobs);
    } else {
      kernel(src.block.address, out.block.address, src.size);
    }
    return out;
  }

  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    const sa = this.check(a);
    const sb = this.check(b);
    const out = this.allocate(sizeOf(outShape), sa.dtype);
    if (sa.dtype === "float32" && sb.dtype === "float32" && op in binaryKernels && out.size > 0) {
      this.binaryWasm(op as WasmBinaryOp, sa, aShape, sb, bShape, outShape, out);
    } else {
      zipInto(op, this.view(sa), aShape, this.view(sb), bShape, outShape, this.view(out));
    }
    return out;
  }

  /**
   * Broadcasting, reduced to rows: merge the dimensions that can be merged, run the 2-D kernel
   * over the last two (rows × cols, each operand stepping along a row or repeating one number),
   * and loop here over whatever dimensions are left in front.
   */
  private binaryWasm(
    op: WasmBinaryOp,
    a: WasmStorage,
    aShape: Shape,
    b: WasmStorage,
    bShape: Shape,
    outShape: Shape,
    out: WasmStorage,
  ): void {
    // Operands as large as the result are not broadcast: one row of every number, without merging.
    const dims =
      a.size === out.size && b.size === out.size
        ? [{ size: out.size, strides: [1, 1] }]
        : collapse(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
    // The last dimension becomes the row; with none left (a single number), a row of one.
    const last = dims.pop() ?? { size: 1, strides: [1, 1] };
    let [da, db] = last.strides;
    let cols = last.size;
    let rowDim = dims.pop() ?? { size: 1, strides: [0, 0] };
    if (da === 0 && db === 0) {
      // Both operands repeat one number along the row: make each number a row of one instead.
      dims.push(rowDim);
      rowDim = { size: cols, strides: [0, 0] };
      cols = 1;
      da = 1;
      db = 1;
    }
    const mode: RowMode = da === 0 ? "sv" : db === 0 ? "vs" : "vv";
    const name = binaryName(op, mode);
    const kernel = this.binaryFns.get(name)!;
    const rows = rowDim.size;
    const [aRow, bRow] = rowDim.strides;
    const rowFloats = rows * cols;
    const base = [a.block.address, b.block.address, out.block.address];
    if (dims.length === 0 && this.threads !== null && rowFloats >= this.parallelElements) {
      this.binaryThreaded(name, base, rows, cols, aRow, bRow, mode);
      return;
    }
    forEachIndex(dims, 2, (offsets, k) => {
      kernel(
        base[0] + 4 * offsets[0],
        base[1] + 4 * offsets[1],
        base[2] + 4 * k * rowFloats,
        rows,
        cols,
        4 * aRow,
        4 * bRow,
      );
    });
  }

  /**
   * A large binary op of one block of rows, shared out between threads: by rows when there are
   * enough of them, else (one long row, both operands stepping) by runs of whole vectors.
   */
  private binaryThreaded(
    name: string,
    [a, b, out]: number[],
    rows: number,
    cols: number,
    aRow: number,
    bRow: number,
    mode: RowMode,
  ): void {
    const threads = this.threads!;
    if (rows >= threads.count) {
      const jobs = evenSplit(rows, threads.count, 1).map(([lo, hi]) => [
        a + 4 * lo * aRow,
        b + 4 * lo * bRow,
        out + 4 * lo * cols,
        hi - lo,
        cols,
        4 * aRow,
        4 * bRow,
      ]);
      threads.run(name, this.kernels, jobs);
    } else if (rows === 1 && mode === "vv") {
      const jobs = evenSplit(cols, threads.count, 4).map(([lo, hi]) => [
        a + 4 * lo,
        b + 4 * lo,
        out + 4 * lo,
        1,
        hi - lo,
        0,
        0,
      ]);
      threads.run(name, this.kernels, jobs);
    } else {
      this.binaryFns.get(name)!(a, b, out, rows, cols, 4 * aRow, 4 * bRow);
    }
  }

  // --- reductions and copies ------------------------------------------------------------------

  reduce(op: ReduceOp, x: Storage, shape: Shape, axes: readonly number[]): Storage {
    const src = this.check(x);
    const keptSize = sizeOf(shape.filter((_, i) => !axes.includes(i)));
    const out = this.allocate(keptSize, src.dtype);
    if (src.dtype !== "float32" || src.size === 0 || !this.reduceWasm(op, src, shape, axes, out)) {
      reduceInto(op, this.view(src), shape, axes, this.view(out));
    }
    return out;
  }

  /**
   * Reductions whose merged shape is [R], [K, R], [R, K], [R, K, R] or [K, R, K] (R reduced, K kept)
   * — every one a model makes — as one or a few kernel calls; false for anything else.
   */
  private reduceWasm(
    op: ReduceOp,
    x: WasmStorage,
    shape: Shape,
    axes: readonly number[],
    out: WasmStorage,
  ): boolean {
    // Merge neighbouring axes of the same kind; size-1 axes change nothing and are dropped.
    const groups: { reduced: boolean; size: number }[] = [];
    shape.forEach((size, i) => {
      if (size === 1) return;
      const reduced = axes.includes(i);
      const previous = groups[groups.length - 1];
      if (previous?.reduced === reduced) previous.size *= size;
      else groups.push({ reduced, size });
    });
    if (groups.length > 3) return false;
    this.view(out).fill(op === "sum" ? 0 : Number.NEGATIVE_INFINITY);
    const k = this.kernels;
    const xa = x.block.address;
    const oa = out.block.address;
    if (groups.length === 0) {
      // A single number, or nothing but size-1 axes: out = x folded into the initial value.
      k[`reduce_rows_${op}`](xa, oa, 1, x.size);
      return true;
    }
    const lastGroup = groups[groups.length - 1];
    const inner = lastGroup.size;
    const middle = groups.length >= 2 ? groups[groups.length - 2].size : 1;
    const outer = groups.length === 3 ? groups[0].size : 1;
    for (let i = 0; i < outer; i++) {
      const xi = xa + 4 * i * middle * inner;
      if (lastGroup.reduced) {
        // [(R), (K), R]: each row of `inner` folds into one number; an outer R folds again.
        k[`reduce_rows_${op}`](xi, oa, middle, inner);
      } else {
        // [(K), (R), K]: `middle` rows fold into one; an outer K gives each its own result row.
        // A large one (a bias gradient over a batch) is split between threads by columns.
        const reducedRows = groups.length >= 2 ? middle : 1;
        const name = `reduce_cols_${op}`;
        const o = oa + 4 * i * inner;
        if (this.threads !== null && outer === 1 && reducedRows * inner >= this.parallelElements) {
          const jobs = evenSplit(inner, this.threads.count, 4).map(([lo, hi]) => [
            xi + 4 * lo,
            o + 4 * lo,
            reducedRows,
            hi - lo,
            4 * inner,
          ]);
          this.threads.run(name, k, jobs);
        } else {
          k[name](xi, o, reducedRows, inner, 4 * inner);
        }
      }
    }
    return true;
  }

  broadcastTo(x: Storage, shape: Shape, outShape: Shape): Storage {
    const src = this.check(x);
    const out = this.allocate(sizeOf(outShape), src.dtype);
    const from = this.view(src);
    const to = this.view(out);
    if (to.length === 0) return out;
    // Rows of the merged shape are either copied whole or filled with one repeated number,
    // both by the engine's native memory routines.
    const dims = collapse(outShape, [broadcastStrides(shape, outShape)]);
    const last = dims.pop() ?? { size: 1, strides: [1] };
    const n = last.size;
    forEachIndex(dims, 1, ([offset], k) => {
      if (last.strides[0] === 0) to.fill(from[offset], k * n, k * n + n);
      else to.set(from.subarray(offset, offset + n), k * n);
    });
    return out;
  }

  permute(x: Storage, shape: Shape, perm: readonly number[]): Storage {
    const src = this.check(x);
    const out = this.allocate(src.size, src.dtype);
    permuteInto(this.view(src), shape, perm, this.view(out));
    return out;
  }

  where(
    cond: Storage,
    condShape: Shape,
    a: Storage,
    aShape: Shape,
    b: Storage,
    bShape: Shape,
    outShape: Shape,
  ): Storage {
    const [sc, sa, sb] = [cond, a, b].map((s) => this.check(s));
    const out = this.allocate(sizeOf(outShape), sa.dtype);
    whereInto(
      this.view(sc),
      condShape,
      this.view(sa),
      aShape,
      this.view(sb),
      bShape,
      outShape,
      this.view(out),
    );
    return out;
  }

  gather(x: Storage, shape: Shape, axis: number, indices: Int32Array): Storage {
    const src = this.check(x);
    const out = this.allocate(sizeOf(withAxisSize(shape, axis, indices.length)), src.dtype);
    gatherInto(this.view(src), shape, axis, indices, this.view(out));
    return out;
  }

  scatterAdd(x: Storage, shape: Shape, axis: number, indices: Int32Array, size: number): Storage {
    const src = this.check(x);
    const out = this.allocate(sizeOf(withAxisSize(shape, axis, size)), src.dtype);
    scatterAddInto(this.view(src), shape, axis, indices, size, this.view(out));
    return out;
  }

  // --- matmul ---------------------------------------------------------------------------------

  matmul(a: Storage, b: Storage, m: number, k: number, n: number, transA: boolean, transB: boolean): Storage {
    return this.batchedMatmul(a, b, { batch: 1, m, k, n, transA, transB });
  }

  batchedMatmul(a: Storage, b: Storage, shape: BatchedMatmulShape): Storage {
    const { batch, m, k, n, transA, transB } = shape;
    const sa = this.check(a);
    const sb = this.check(b);
    const out = this.allocate(batch * m * n, sa.dtype);
    if (sa.dtype !== "float32" || sb.dtype !== "float32") {
      batchedMatmulInto(this.view(sa), this.view(sb), shape, this.view(out));
      return out;
    }
    for (let i = 0; i < batch; i++) {
      const [ai, bi, oi] = [sa, sb, out].map((s, j) => s.block.address + 4 * i * [m * k, k * n, m * n][j]);
      this.matmulF32(ai, bi, oi, m, k, n, transA, transB);
    }
    return out;
  }

  /** One float32 matmul between addresses in memory, shared out between threads when large. */
  private matmulF32(
    aAddress: number,
    bAddress: number,
    outAddress: number,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
  ): void {
    if (m === 0 || n === 0) return;
    const mPanels = Math.ceil(m / MR);
    const nPanels = Math.ceil(n / NR);
    // Split the larger side's panels between threads; each thread packs all of the other operand.
    const threads = 2 * m * k * n >= this.parallelFlops ? this.threadCount : 1;
    const splitN = n >= m;
    const parts = Math.max(1, Math.min(threads, splitN ? nPanels : mPanels));
    const skip = this.skipFor(aAddress, m * k, bAddress, k * n, m, n);
    const jobs: number[][] = [];
    for (let t = 0; t < parts; t++) {
      const total = splitN ? nPanels : mPanels;
      const lo = Math.floor((t * total) / parts);
      const hi = Math.floor(((t + 1) * total) / parts);
      const [ip0, ip1, jp0, jp1] = splitN ? [0, mPanels, lo, hi] : [lo, hi, 0, nPanels];
      const packABytes = (ip1 - ip0) * k * MR * 4;
      const packBBytes = (jp1 - jp0) * k * NR * 4;
      const skippedPanels = skip === SKIP_A ? ip1 - ip0 : skip === SKIP_B ? jp1 - jp0 : 0;
      const scratchBytes = matmulScratchBytes(k, skippedPanels);
      // Per thread: its scratch (see matmulScratchBytes), then its packed A and B panels.
      const scratch = this.scratchFor(t, scratchBytes + packABytes + packBBytes);
      jobs.push(
        matmulBlockArgs({
          a: aAddress,
          b: bAddress,
          c: outAddress,
          m,
          k,
          n,
          // A(i, p) = a[i·aRowStride + p·aDepthStride]; B(p, j) = b[j·bColStride + p·bDepthStride]
          aRowStride: transA ? 1 : k,
          aDepthStride: transA ? m : 1,
          bColStride: transB ? k : 1,
          bDepthStride: transB ? 1 : n,
          packA: scratch + scratchBytes,
          packB: scratch + scratchBytes + packABytes,
          scratch,
          ip0,
          ip1,
          jp0,
          jp1,
          skip,
        }),
      );
    }
    if (jobs.length === 1 || this.threads === null) this.kernels.matmul_block(...jobs[0]);
    else this.threads.run("matmul_block", this.kernels, jobs);
  }

  // --- fused kernels (optional Backend methods) ----------------------------------------------

  adamUpdate(param: Storage, grad: Storage, m: Storage, v: Storage, hyper: AdamHyperparameters): boolean {
    const [sp, sg, sm, sv] = [param, grad, m, v].map((s) => this.check(s));
    if ([sg, sm, sv].some((s) => s.size !== sp.size || s.dtype !== sp.dtype)) {
      throw new Error("wasm backend: adamUpdate needs param, grad, m and v of one size and dtype");
    }
    const { lr, beta1, beta2, eps, weightDecay, step } = hyper;
    const constants = [
      weightDecay,
      beta1,
      1 - beta1,
      beta2,
      1 - beta2,
      1 - beta2 ** step,
      eps,
      lr / (1 - beta1 ** step),
    ];
    if (sp.dtype === "float32") {
      const kernel = weightDecay === 0 ? "adam_update" : "adam_update_decay";
      // The constants as float32 bits (see kernels-optim.ts), then slices of whole vectors per thread,
      // each with its own 16 bytes (in its scratch block) for the finiteness sums.
      const bits = Array.from(new Int32Array(Float32Array.from(constants).buffer));
      const slices = evenSplit(sp.size, this.partsFor(sp.size), 4);
      const sums = slices.map((_, t) => this.scratchFor(t, 16));
      const jobs = slices.map(([lo, hi], t) => [
        ...[sp, sg, sm, sv].map((s) => s.block.address + 4 * lo),
        hi - lo,
        sums[t],
        ...bits,
      ]);
      this.runJobs(kernel, jobs);
      return sums.every((at) => this.f32.subarray(at / 4, at / 4 + 4).every((sum) => sum === 0));
    }
    // float64: the same formula, in the same order, in JavaScript.
    const [wd, b1, omb1, b2, omb2, c2, e, stepSize] = constants;
    const [P, G, M, V] = [sp, sg, sm, sv].map((s) => this.view(s));
    let finite = true;
    for (let i = 0; i < P.length; i++) {
      const g = weightDecay === 0 ? G[i] : G[i] + P[i] * wd;
      M[i] = M[i] * b1 + g * omb1;
      V[i] = V[i] * b2 + g * g * omb2;
      P[i] = P[i] - (M[i] / (Math.sqrt(V[i] / c2) + e)) * stepSize;
      finite &&= Number.isFinite(P[i]) && Number.isFinite(M[i]) && Number.isFinite(V[i]);
    }
    return finite;
  }

  bceWithLogitsSum(logits: Storage, target: Storage): Storage {
    const [sl, st] = this.lossOperands("bceWithLogitsSum", logits, target);
    if (sl.dtype !== "float32") return this.composedBce(sl, st);
    // Whole vectors per thread, each with its own 20 bytes (in its scratch block) for its partial sums.
    const slices = evenSplit(sl.size, this.partsFor(sl.size), 4);
    const partials = slices.map((_, t) => this.scratchFor(t, 20));
    const jobs = slices.map(([lo, hi], t) => [
      sl.block.address + 4 * lo,
      st.block.address + 4 * lo,
      hi - lo,
      partials[t],
    ]);
    this.runJobs("bce_logits_sum", jobs);
    let sum = 0;
    for (const at of partials) for (const partial of this.f32.subarray(at / 4, at / 4 + 5)) sum += partial;
    return this.fromArray(Float32Array.of(sum));
  }

  bceWithLogitsGrad(logits: Storage, target: Storage, g: Storage): Storage {
    const [sl, st] = this.lossOperands("bceWithLogitsGrad", logits, target);
    const sg = this.check(g);
    if (sg.size !== 1 || sg.dtype !== sl.dtype) {
      throw new Error(
        `wasm backend: bceWithLogitsGrad needs g of one ${sl.dtype} number, got ${sg.size} ${sg.dtype}`,
      );
    }
    if (sl.dtype !== "float32") return this.composedBceGrad(sl, st, sg);
    const out = this.allocate(sl.size, "float32");
    const jobs = evenSplit(sl.size, this.partsFor(sl.size), 4).map(([lo, hi]) => [
      sl.block.address + 4 * lo,
      st.block.address + 4 * lo,
      sg.block.address,
      out.block.address + 4 * lo,
      hi - lo,
    ]);
    this.runJobs("bce_logits_grad", jobs);
    return out;
  }

  private lossOperands(op: string, logits: Storage, target: Storage): [WasmStorage, WasmStorage] {
    const [sl, st] = [logits, target].map((s) => this.check(s));
    if (sl.size !== st.size || sl.dtype !== st.dtype) {
      throw new Error(
        `wasm backend: ${op} needs logits and target of one size and dtype, got ${sl.size} ${sl.dtype} and ${st.size} ${st.dtype}`,
      );
    }
    return [sl, st];
  }

  /** float64: the sum composed from this backend's own ops, as the contract defines it. */
  private composedBce(sl: WasmStorage, st: WasmStorage): Storage {
    const shape = [sl.size];
    const softplus = this.unary("softplus", sl);
    const product = this.binary("mul", st, shape, sl, shape, shape);
    const terms = this.binary("sub", softplus, shape, product, shape, shape);
    const out = this.reduce("sum", terms, shape, [0]);
    for (const s of [softplus, product, terms]) this.dispose(s);
    return out;
  }

  /** float64: the gradient composed from this backend's own ops. */
  private composedBceGrad(sl: WasmStorage, st: WasmStorage, sg: WasmStorage): Storage {
    const shape = [sl.size];
    const sigmoid = this.unary("sigmoid", sl);
    const difference = this.binary("sub", sigmoid, shape, st, shape, shape);
    const out = this.binary("mul", difference, shape, sg, [], shape);
    for (const s of [sigmoid, difference]) this.dispose(s);
    return out;
  }

  /** How many threads share a pass of `size` numbers through an expensive kernel. */
  private partsFor(size: number): number {
    return this.threads !== null && size >= this.parallelElements ? this.threads.count : 1;
  }

  /** One job on this thread, or one per thread. */
  private runJobs(kernel: string, jobs: number[][]): void {
    if (jobs.length === 1 || this.threads === null) this.kernels[kernel](...jobs[0]);
    else this.threads.run(kernel, this.kernels, jobs);
  }

  /** Which operand's zeros the matmul skips (see sparsity.ts). */
  private skipFor(a: number, aSize: number, b: number, bSize: number, m: number, n: number): number {
    if (this.sparseZeros > 1 || (this.sparseZeros > 0 && m * n < SPARSE_MIN_OUTPUT)) return SKIP_NONE;
    const zerosA = sampledZeroShare(this.f32, a / 4, aSize);
    const zerosB = sampledZeroShare(this.f32, b / 4, bSize);
    return { none: SKIP_NONE, a: SKIP_A, b: SKIP_B }[chooseSkip(zerosA, zerosB, this.sparseZeros)];
  }

  /** Thread t's scratch block, at least `bytes` long. */
  private scratchFor(t: number, bytes: number): number {
    const current = this.scratch[t];
    if (current !== undefined && current.bytes >= bytes) return current.address;
    if (current !== undefined) this.pool.free(current.address, current.bytes);
    const block = { address: this.pool.allocate(bytes), bytes };
    this.scratch[t] = block;
    return block.address;
  }
}

const compiled = new Map<string, Promise<WasmModule>>();

/** The module for shared memory or not, with relaxed SIMD or not: compiled once each. */
function compile(shared: boolean, relaxedSimd: boolean): Promise<WasmModule> {
  const key = `${shared}/${relaxedSimd}`;
  let module = compiled.get(key);
  if (module === undefined) {
    module = WebAssemblyApi.compile(moduleBytes(shared, INITIAL_PAGES, { relaxedSimd }));
    compiled.set(key, module);
  }
  return module;
}

/**
 * [lo, hi) ranges that cut n items into `parts` runs of nearly equal length, each boundary a
 * multiple of `unit` (whole vectors, so that every run but the last has no scalar tail).
 */
export function evenSplit(n: number, parts: number, unit: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let t = 0; t < parts; t++) {
    const lo = unit * Math.floor((t * n) / parts / unit);
    const hi = t === parts - 1 ? n : unit * Math.floor(((t + 1) * n) / parts / unit);
    ranges.push([lo, hi]);
  }
  return ranges;
}

/** Unary ops worth splitting between threads: polynomial evaluations, not single instructions. */
const expensiveUnary = { exp: true, log: true, sigmoid: true, softplus: true, tanh: true } satisfies Partial<
  Record<WasmUnaryOp, true>
>;
/** Kernels a worker may be asked to run. */
const parallelKernels = [
  "matmul_block",
  "adam_update",
  "adam_update_decay",
  "bce_logits_sum",
  "bce_logits_grad",
  ...Object.keys(expensiveUnary).map((op) => unaryName(op as WasmUnaryOp)),
  ...(Object.keys(binaryKernels) as WasmBinaryOp[]).flatMap((op) =>
    rowModes.map((mode) => binaryName(op, mode)),
  ),
  "reduce_cols_sum",
  "reduce_cols_max",
];

/**
 * A new wasm backend with its own memory and, when `threads` > 1 and memory can be shared here,
 * worker threads. Call `terminate()` when done with a multi-threaded one in a test.
 */
export async function createWasmBackend(options: WasmOptions = {}): Promise<WasmBackend> {
  const wanted = options.threads ?? (await defaultThreadCount());
  if (!Number.isInteger(wanted) || wanted < 1)
    throw new Error(`wasm backend: threads must be a positive integer, got ${wanted}`);
  const shared = wanted > 1 && sharedMemorySupported();
  const relaxedSimd = options.relaxedSimd ?? relaxedSimdSupported();
  if (relaxedSimd && !relaxedSimdSupported())
    throw new Error(
      "wasm backend: relaxedSimd was asked for, but this engine does not validate relaxed SIMD",
    );
  const module = await compile(shared, relaxedSimd);
  const memory = new WebAssemblyApi.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared });
  const instance = await WebAssemblyApi.instantiate(module, { env: { memory } });
  const kernels = instance.exports as unknown as Kernels;
  const workers = shared ? wanted - 1 : 0;
  if (workers * CONTROL_BYTES > POOL_BASE)
    throw new Error(`wasm backend: at most ${POOL_BASE / CONTROL_BYTES + 1} threads`);
  const threads =
    workers > 0
      ? await Threads.start({
          module,
          memory,
          workers,
          controlBase: 0,
          kernels: parallelKernels,
          spinMs: options.spinMs ?? 1,
        })
      : null;
  return new WasmBackend(memory, kernels, threads, { ...options, relaxedSimd });
}

let shared: Promise<WasmBackend> | null = null;

/** The wasm backend the registry hands out: created once, with the default options. */
export function wasmBackend(): Promise<WasmBackend> {
  shared ??= createWasmBackend();
  return shared;
}
