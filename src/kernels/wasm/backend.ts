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
 *
 * Here each op of the Backend interface checks its storages and plans its work as steps
 * (steps.ts), run in one place; storage.ts is what a storage is, create.ts makes the backend (the
 * module, the memory, the workers), program.ts runs a compiled step as the backend's own program.
 */
import type { Program } from "../../compile/program.ts";
import { replayer } from "../../compile/replay.ts";
import type {
  AdamHyperparameters,
  Backend,
  BackendDescription,
  BinaryOp,
  DType,
  LoweredProgram,
  MatmulShape,
  MemoryInfo,
  ReduceOp,
  Shape,
  Storage,
  TypedArray,
  UnaryOp,
} from "../backend.ts";
import { mapInto, whereInto, zipInto } from "../cpu/elementwise.ts";
import { matmulInto } from "../cpu/matmul.ts";
import { permuteInto, reduceInto } from "../cpu/reduce.ts";
import { gatherInto, scatterAddInto, withAxisSize } from "../gather.ts";
import { Ledger } from "../ledger.ts";
import { broadcastStrides, collapse, forEachIndex, reductionRuns, sizeOf } from "../shape.ts";
import {
  binaryKernels,
  binaryName,
  type RowMode,
  unaryKernels,
  unaryName,
  type WasmBinaryOp,
  type WasmUnaryOp,
} from "./kernels-elementwise.ts";
import { MR, matmulBlockArgs, matmulJobLayout, NR, SKIP_A, SKIP_B, SKIP_NONE } from "./kernels-matmul.ts";
import { type Kernels, MAX_PAGES, PAGE_BYTES } from "./module.ts";
import { formatBinaryBytes, Pool, type PoolInfo, sizeClass } from "./pool.ts";
import { loweringBytes, WasmProgram } from "./program.ts";
import { chooseSkip, DEFAULT_SPARSE_ZEROS, sampledZeroShare } from "./sparsity.ts";
import { evenSplit, type Step } from "./steps.ts";
import { type Block, bytesPer, WasmStorage } from "./storage.ts";
import type { Threads } from "./threads.ts";
import type { WasmMemory } from "./wasm-api.ts";

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
  /**
   * The most memory the backend may take, in bytes: whole pages of 64 KiB, from 16 MiB (what it
   * starts with) to 2 GiB (the default, and what WebAssembly's 32-bit addresses allow here).
   */
  maxMemory?: number;
}

/** Products with fewer outputs than this do not look for zeros (sampling would cost more than it saves), unless sparseZeros is 0. */
const SPARSE_MIN_OUTPUT = 1024;

/** The step that copies `from` onto `to` (one size and dtype) in memory, with memory.copy (kernels-copy.ts). */
const copyBytes = (to: WasmStorage, from: WasmStorage): Step => ({
  kernel: "copy_bytes",
  jobs: [[to.block.address, from.block.address, from.size * bytesPer(from.dtype)]],
  parallel: false,
});

/** A compiled step's storages that its plan has done with, by their blocks' size class (pool.ts). */
export type SpareBlocks = Map<number, WasmStorage[]>;

/** The address where the pool starts: below it, one control block per worker. */
export const POOL_BASE = PAGE_BYTES;

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
  private readonly ledger = new Ledger(this, WasmStorage, (block: Block) =>
    this.pool.free(block.address, block.bytes),
  );
  /** Per thread: its packing buffers for matmul (grown on demand, kept). */
  private readonly scratch: Block[] = [];
  /**
   * While a compiled step is lowered (program.ts): the steps its ops ran, the storages that are the
   * program's own (its scratch, never shared with another op, so ops may run side by side), the
   * program's spare buffers that allocations take first, and the storages whose buffer they took.
   */
  private lowering: {
    steps: Step[];
    owned: WasmStorage[];
    spare: SpareBlocks;
    reused: WasmStorage[];
  } | null = null;
  private readonly pool: Pool;

  constructor(
    /** The memory every storage is a block of (a compiled step's fused kernels import it too). */
    readonly wasmMemory: WasmMemory,
    private readonly kernels: Kernels,
    private threads: Threads | null,
    options: WasmOptions,
  ) {
    this.parallelFlops = options.parallelFlops ?? 1e6;
    this.parallelElements = options.parallelElements ?? 16384;
    this.sparseZeros = options.sparseZeros ?? DEFAULT_SPARSE_ZEROS;
    this.relaxedSimd = options.relaxedSimd ?? false;
    this.pool = new Pool(
      wasmMemory,
      POOL_BASE,
      () => this.remakeViews(),
      Math.floor((options.maxMemory ?? MAX_PAGES * PAGE_BYTES) / PAGE_BYTES),
    );
    this.f32 = new Float32Array(wasmMemory.buffer);
    this.f64 = new Float64Array(wasmMemory.buffer);
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

  /**
   * A compiled step as this backend's own program (program.ts): its kernels on buffers planned
   * ahead, run by all threads at once. Returns the storages of its results at each call.
   */
  lower(program: Program): LoweredProgram {
    // A lowered program keeps its buffers for life. One that could take more than half the room
    // left would starve what still runs op by op beside it, which needs about as much at its peak:
    // the eager runs and replays of other input shapes (a training loop's smaller last batch).
    const [need, room] = [loweringBytes(program, this.threadCount), this.pool.room()];
    if (need > room / 2) {
      return replayer(
        program,
        `not lowered: its buffers could take up to ${formatBinaryBytes(need)}, more than half the ${formatBinaryBytes(room)} the memory has room for`,
      );
    }
    return new WasmProgram(this, program);
  }

  /**
   * Run `fn` (ops of a compiled step, on storages the program owns) and hand back, with its result,
   * the steps each op ran: what the program runs again at every call. Scratch is the program's own.
   * What `fn` allocates takes a block from `spare` (the program's storages past their last use, by
   * size class) where one fits, in place of the pool: `reused` lists the storages given up for it.
   */
  collectSteps<T>(
    fn: () => T,
    spare: SpareBlocks = new Map(),
  ): { result: T; steps: Step[]; owned: WasmStorage[]; reused: WasmStorage[] } {
    if (this.lowering !== null) throw new Error("wasm backend: lowering is already under way");
    const lowering = { steps: [] as Step[], owned: [] as WasmStorage[], spare, reused: [] as WasmStorage[] };
    this.lowering = lowering;
    try {
      return { result: fn(), ...lowering };
    } finally {
      this.lowering = null;
    }
  }

  /** Run an op's steps now; while lowering, keep them too. */
  private exec(...steps: Step[]): void {
    for (const step of steps) this.runStep(step);
    this.lowering?.steps.push(...steps);
  }

  /** One step: host code here, or a kernel's jobs (shared between threads when cut for it). */
  runStep(step: Step): void {
    if ("host" in step) {
      step.host();
      return;
    }
    if (step.parallel && step.jobs.length > 1 && this.threads !== null) {
      this.threads.run(step.kernel, this.kernels, step.jobs);
      return;
    }
    const kernel = this.kernels[step.kernel];
    for (const job of step.jobs) kernel(...job);
  }

  /** A view of a storage's numbers (valid until the memory next grows: take it when needed). */
  viewOf(x: Storage): TypedArray {
    return this.view(this.check(x));
  }

  /** The memory as 32-bit integers (a program's task queue lives there). */
  memoryInts(): Int32Array {
    return new Int32Array(this.wasmMemory.buffer);
  }

  /** A kernel by name, and its number among the kernels the workers know. */
  kernel(name: string): (...args: number[]) => unknown {
    const fn = this.kernels[name];
    if (fn === undefined) throw new Error(`wasm backend: no kernel ${name}`);
    return fn;
  }

  kernelNumber(name: string): number {
    return this.threads?.kernelNumber(name) ?? -1;
  }

  /** Whether there are worker threads to share a program's runs with. */
  hasWorkers(): boolean {
    return this.threads !== null;
  }

  /** Ask the worker threads to join a program's run (see threads.ts); none when there are none. */
  startProgram(queue: number, epoch: number): void {
    this.threads?.startProgram(queue, epoch);
  }

  /** Wait until a program's job that a worker may hold is done (Threads.waitForAny). */
  waitForWorkers(I: Int32Array, done: number, jobs: Int32Array, count: number, epoch: number): void {
    this.threads?.waitForAny(I, done, jobs, count, epoch);
  }

  /** Milliseconds this thread has spent waiting for the worker threads, timed (for profiles). */
  get waitedMs(): number {
    return this.threads?.waitedMs ?? 0;
  }

  private remakeViews(): void {
    this.f32 = new Float32Array(this.wasmMemory.buffer);
    this.f64 = new Float64Array(this.wasmMemory.buffer);
  }

  // --- storages -------------------------------------------------------------------------------

  private allocate(size: number, dtype: DType): WasmStorage {
    const bytes = size * bytesPer(dtype);
    const spare = this.lowering?.spare.get(sizeClass(bytes))?.pop();
    if (spare !== undefined) {
      // The block passes from a storage of the program to this one, never through the pool.
      (this.lowering as { reused: WasmStorage[] }).reused.push(spare);
      const block = { address: this.ledger.surrender(spare).address, bytes };
      return this.ledger.add(new WasmStorage(dtype, size, block), block, bytes);
    }
    const block = { address: this.pool.allocate(bytes), bytes };
    return this.ledger.add(new WasmStorage(dtype, size, block), block, bytes);
  }

  /** The storage as ours, with a clear error if it is not or was disposed. */
  private check(x: Storage): WasmStorage {
    return this.ledger.check(x);
  }

  /** A typed-array view of a storage's numbers (valid until the memory next grows). */
  private view(x: WasmStorage): TypedArray {
    const start = x.block.address / bytesPer(x.dtype);
    return (x.dtype === "float64" ? this.f64 : this.f32).subarray(start, start + x.size);
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
    this.ledger.dispose(x);
  }

  memory(): MemoryInfo {
    return this.ledger.memory();
  }

  write(dst: Storage, src: Storage): void {
    const [to, from] = [this.check(dst), this.check(src)];
    if (to.size !== from.size || to.dtype !== from.dtype) {
      throw new Error(
        `wasm backend: write needs one size and dtype, got ${to.size} ${to.dtype} and ${from.size} ${from.dtype}`,
      );
    }
    this.exec(copyBytes(to, from));
  }

  copy(x: Storage): Storage {
    return this.cast(x, x.dtype);
  }

  cast(x: Storage, dtype: DType): Storage {
    const src = this.check(x);
    const out = this.allocate(src.size, dtype);
    this.exec(dtype === src.dtype ? copyBytes(out, src) : { host: () => this.view(out).set(this.view(src)) });
    return out;
  }

  // --- elementwise ----------------------------------------------------------------------------

  unary(op: UnaryOp, x: Storage): Storage {
    const src = this.check(x);
    const out = this.allocate(src.size, src.dtype);
    if (src.dtype !== "float32" || !(op in unaryKernels)) {
      this.exec({ host: () => mapInto(op, this.view(src), this.view(out)) });
    } else if (op in expensiveUnary) {
      // exp and friends cost a few ns per number: large arrays are worth sharing out, in
      // slices of whole vectors.
      const jobs = evenSplit(src.size, this.partsFor(src.size), 4).map(([lo, hi]) => [
        src.block.address + 4 * lo,
        out.block.address + 4 * lo,
        hi - lo,
      ]);
      this.exec({ kernel: unaryName(op as WasmUnaryOp), jobs, parallel: true });
    } else {
      const jobs = [[src.block.address, out.block.address, src.size]];
      this.exec({ kernel: unaryName(op as WasmUnaryOp), jobs, parallel: false });
    }
    return out;
  }

  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    const sa = this.check(a);
    const sb = this.check(b);
    const out = this.allocate(sizeOf(outShape), sa.dtype);
    if (sa.dtype === "float32" && sb.dtype === "float32" && op in binaryKernels && out.size > 0) {
      this.exec(this.binaryWasm(op as WasmBinaryOp, sa, aShape, sb, bShape, outShape, out));
    } else {
      this.exec({
        host: () => zipInto(op, this.view(sa), aShape, this.view(sb), bShape, outShape, this.view(out)),
      });
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
  ): Step {
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
    const rows = rowDim.size;
    const [aRow, bRow] = rowDim.strides;
    const rowFloats = rows * cols;
    const base = [a.block.address, b.block.address, out.block.address];
    if (dims.length === 0 && this.threads !== null && rowFloats >= this.parallelElements) {
      return this.binaryThreaded(name, base, rows, cols, aRow, bRow, mode);
    }
    const jobs: number[][] = [];
    forEachIndex(dims, 2, (offsets, k) => {
      jobs.push([
        base[0] + 4 * offsets[0],
        base[1] + 4 * offsets[1],
        base[2] + 4 * k * rowFloats,
        rows,
        cols,
        4 * aRow,
        4 * bRow,
      ]);
    });
    return { kernel: name, jobs, parallel: false };
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
  ): Step {
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
      return { kernel: name, jobs, parallel: true };
    }
    if (rows === 1 && mode === "vv") {
      const jobs = evenSplit(cols, threads.count, 4).map(([lo, hi]) => [
        a + 4 * lo,
        b + 4 * lo,
        out + 4 * lo,
        1,
        hi - lo,
        0,
        0,
      ]);
      return { kernel: name, jobs, parallel: true };
    }
    return { kernel: name, jobs: [[a, b, out, rows, cols, 4 * aRow, 4 * bRow]], parallel: false };
  }

  // --- reductions and copies ------------------------------------------------------------------

  reduce(op: ReduceOp, x: Storage, shape: Shape, axes: readonly number[]): Storage {
    const src = this.check(x);
    const keptSize = sizeOf(shape.filter((_, i) => !axes.includes(i)));
    const out = this.allocate(keptSize, src.dtype);
    const steps = src.dtype === "float32" && src.size > 0 ? this.reduceWasm(op, src, shape, axes, out) : null;
    this.exec(...(steps ?? [{ host: () => reduceInto(op, this.view(src), shape, axes, this.view(out)) }]));
    return out;
  }

  /**
   * Reductions whose merged shape is [R], [K, R], [R, K], [R, K, R] or [K, R, K] (R reduced, K kept)
   * — every one a model makes — as the result's initial value and one or a few kernel calls;
   * null for anything else.
   */
  private reduceWasm(
    op: ReduceOp,
    x: WasmStorage,
    shape: Shape,
    axes: readonly number[],
    out: WasmStorage,
  ): Step[] | null {
    const groups = reductionRuns(shape, axes);
    if (groups.length > 3) return null;
    const steps: Step[] = [{ host: () => this.view(out).fill(op === "sum" ? 0 : Number.NEGATIVE_INFINITY) }];
    const xa = x.block.address;
    const oa = out.block.address;
    const rowsKernel = `reduce_rows_${op}`;
    if (groups.length === 0) {
      // A single number, or nothing but size-1 axes: out = x folded into the initial value.
      return [...steps, { kernel: rowsKernel, jobs: [[xa, oa, 1, x.size]], parallel: false }];
    }
    const lastGroup = groups[groups.length - 1];
    const inner = lastGroup.size;
    const middle = groups.length >= 2 ? groups[groups.length - 2].size : 1;
    const outer = groups.length === 3 ? groups[0].size : 1;
    for (let i = 0; i < outer; i++) {
      const xi = xa + 4 * i * middle * inner;
      if (lastGroup.reduced) {
        // [(R), (K), R]: each row of `inner` folds into one number; an outer R folds again.
        steps.push({ kernel: rowsKernel, jobs: [[xi, oa, middle, inner]], parallel: false });
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
          steps.push({ kernel: name, jobs, parallel: true });
        } else {
          steps.push({ kernel: name, jobs: [[xi, o, reducedRows, inner, 4 * inner]], parallel: false });
        }
      }
    }
    return steps;
  }

  broadcastTo(x: Storage, shape: Shape, outShape: Shape): Storage {
    const src = this.check(x);
    const out = this.allocate(sizeOf(outShape), src.dtype);
    if (out.size === 0) return out;
    // Rows of the merged shape are either copied whole or filled with one repeated number,
    // both by the engine's native memory routines.
    const dims = collapse(outShape, [broadcastStrides(shape, outShape)]);
    const last = dims.pop() ?? { size: 1, strides: [1] };
    const n = last.size;
    this.exec({
      host: () => {
        const [from, to] = [this.view(src), this.view(out)];
        forEachIndex(dims, 1, ([offset], k) => {
          if (last.strides[0] === 0) to.fill(from[offset], k * n, k * n + n);
          else to.set(from.subarray(offset, offset + n), k * n);
        });
      },
    });
    return out;
  }

  permute(x: Storage, shape: Shape, perm: readonly number[]): Storage {
    const src = this.check(x);
    const out = this.allocate(src.size, src.dtype);
    this.exec({ host: () => permuteInto(this.view(src), shape, perm, this.view(out)) });
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
    this.exec({
      host: () =>
        whereInto(
          this.view(sc),
          condShape,
          this.view(sa),
          aShape,
          this.view(sb),
          bShape,
          outShape,
          this.view(out),
        ),
    });
    return out;
  }

  gather(x: Storage, shape: Shape, axis: number, indices: Int32Array): Storage {
    const src = this.check(x);
    const out = this.allocate(sizeOf(withAxisSize(shape, axis, indices.length)), src.dtype);
    this.exec({ host: () => gatherInto(this.view(src), shape, axis, indices, this.view(out)) });
    return out;
  }

  scatterAdd(x: Storage, shape: Shape, axis: number, indices: Int32Array, size: number): Storage {
    const src = this.check(x);
    const out = this.allocate(sizeOf(withAxisSize(shape, axis, size)), src.dtype);
    this.exec({ host: () => scatterAddInto(this.view(src), shape, axis, indices, size, this.view(out)) });
    return out;
  }

  // --- matmul ---------------------------------------------------------------------------------

  matmul(a: Storage, b: Storage, shape: MatmulShape): Storage {
    const { batch, m, k, n, transA, transB } = shape;
    const sa = this.check(a);
    const sb = this.check(b);
    const out = this.allocate(batch * m * n, sa.dtype);
    if (sa.dtype !== "float32" || sb.dtype !== "float32") {
      this.exec({ host: () => matmulInto(this.view(sa), this.view(sb), shape, this.view(out)) });
      return out;
    }
    for (let i = 0; i < batch; i++) {
      const [ai, bi, oi] = [sa, sb, out].map((s, j) => s.block.address + 4 * i * [m * k, k * n, m * n][j]);
      const jobs = this.matmulF32(ai, bi, oi, m, k, n, transA, transB);
      if (jobs.length > 0) this.exec({ kernel: "matmul_block", jobs, parallel: true });
    }
    return out;
  }

  /** The jobs of one float32 matmul between addresses in memory, cut for threads when large. */
  private matmulF32(
    aAddress: number,
    bAddress: number,
    outAddress: number,
    m: number,
    k: number,
    n: number,
    transA: boolean,
    transB: boolean,
  ): number[][] {
    if (m === 0 || n === 0) return [];
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
      const skippedPanels = skip === SKIP_A ? ip1 - ip0 : skip === SKIP_B ? jp1 - jp0 : 0;
      const layout = matmulJobLayout(k, ip1 - ip0, jp1 - jp0, skippedPanels);
      const scratch = this.scratchFor(t, layout.bytes);
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
          packA: scratch + layout.packA,
          packB: scratch + layout.packB,
          scratch,
          ip0,
          ip1,
          jp0,
          jp1,
          skip,
        }),
      );
    }
    return jobs;
  }

  // --- fused kernels (optional Backend methods) ----------------------------------------------

  /** float32 only: declines float64 (the caller composes the formula). */
  adamUpdate(
    param: Storage,
    grad: Storage,
    m: Storage,
    v: Storage,
    corrections: Storage,
    hyper: AdamHyperparameters,
  ): Storage | undefined {
    const [sp, sg, sm, sv] = [param, grad, m, v].map((s) => this.check(s));
    const sc = this.check(corrections);
    if (
      [sg, sm, sv].some((s) => s.size !== sp.size || s.dtype !== sp.dtype) ||
      sc.size !== 2 ||
      sc.dtype !== sp.dtype
    ) {
      throw new Error(
        "wasm backend: adamUpdate needs param, grad, m and v of one size and dtype, and two corrections in it",
      );
    }
    if (sp.dtype !== "float32") return undefined;
    const { beta1, beta2, eps, weightDecay } = hyper;
    const kernel = weightDecay === 0 ? "adam_update" : "adam_update_decay";
    // The constants as float32 bits (see kernels-optim.ts), then slices of whole vectors per thread,
    // each with its own four numbers of the result for the finiteness sums.
    const constants = [weightDecay, beta1, 1 - beta1, beta2, 1 - beta2, eps];
    const bits = Array.from(new Int32Array(Float32Array.from(constants).buffer));
    const slices = evenSplit(sp.size, this.partsFor(sp.size), 4);
    const sums = this.allocate(4 * slices.length, "float32");
    const jobs = slices.map(([lo, hi], thread) => [
      ...[sp, sg, sm, sv].map((s) => s.block.address + 4 * lo),
      hi - lo,
      sums.block.address + 16 * thread,
      sc.block.address,
      ...bits,
    ]);
    this.exec({ kernel, jobs, parallel: true });
    return sums;
  }

  /** float32 only, as bceWithLogitsGrad: declines float64. */
  bceWithLogitsSum(logits: Storage, target: Storage): Storage | undefined {
    const [sl, st] = this.lossOperands("bceWithLogitsSum", logits, target);
    if (sl.dtype !== "float32") return undefined;
    // Whole vectors per thread, each with its own 20 bytes (in its scratch block) for its partial sums.
    const slices = evenSplit(sl.size, this.partsFor(sl.size), 4);
    const partials = slices.map((_, t) => this.scratchFor(t, 20));
    const jobs = slices.map(([lo, hi], t) => [
      sl.block.address + 4 * lo,
      st.block.address + 4 * lo,
      hi - lo,
      partials[t],
    ]);
    const out = this.allocate(1, "float32");
    this.exec(
      { kernel: "bce_logits_sum", jobs, parallel: true },
      {
        host: () => {
          let sum = 0;
          for (const at of partials)
            for (const partial of this.f32.subarray(at / 4, at / 4 + 5)) sum += partial;
          this.f32[out.block.address / 4] = sum;
        },
      },
    );
    return out;
  }

  bceWithLogitsGrad(logits: Storage, target: Storage, g: Storage): Storage | undefined {
    const [sl, st] = this.lossOperands("bceWithLogitsGrad", logits, target);
    const sg = this.check(g);
    if (sg.size !== 1 || sg.dtype !== sl.dtype) {
      throw new Error(
        `wasm backend: bceWithLogitsGrad needs g of one ${sl.dtype} number, got ${sg.size} ${sg.dtype}`,
      );
    }
    if (sl.dtype !== "float32") return undefined;
    const out = this.allocate(sl.size, "float32");
    const jobs = evenSplit(sl.size, this.partsFor(sl.size), 4).map(([lo, hi]) => [
      sl.block.address + 4 * lo,
      st.block.address + 4 * lo,
      sg.block.address,
      out.block.address + 4 * lo,
      hi - lo,
    ]);
    this.exec({ kernel: "bce_logits_grad", jobs, parallel: true });
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

  /** How many threads share a pass of `size` numbers through an expensive kernel. */
  private partsFor(size: number): number {
    return this.threads !== null && size >= this.parallelElements ? this.threads.count : 1;
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
    if (this.lowering !== null) {
      const own = this.allocate(Math.ceil(bytes / 4), "float32");
      this.lowering.owned.push(own);
      return own.block.address;
    }
    const current = this.scratch[t];
    if (current !== undefined && current.bytes >= bytes) return current.address;
    if (current !== undefined) this.pool.free(current.address, current.bytes);
    const block = { address: this.pool.allocate(bytes), bytes };
    this.scratch[t] = block;
    return block.address;
  }
}

/** Unary ops worth splitting between threads: polynomial evaluations, not single instructions. */
const expensiveUnary = { exp: true, log: true, sigmoid: true, softplus: true, tanh: true } satisfies Partial<
  Record<WasmUnaryOp, true>
>;
