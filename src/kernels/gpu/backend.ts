/**
 * The GPU backend: the Backend interface on gpu.js kernels.
 *
 * Matmul (all four transpose variants), the elementwise maps with broadcasting, `where`,
 * reductions over one contiguous run of axes, broadcast and permute run as kernels on the device,
 * in float32, and their results stay there for the next kernel. Everything else falls back, per
 * op, to the cpu backend's kernels on host copies: float64 tensors (the GPU computes in single
 * precision), gathers and scatters (their indices live on the host), empty tensors, layouts that
 * need more than three indices, tensors too large for exact float32 indexing, dot products longer
 * than a shader loop may run (K > 65,535), and batches of matmuls. Values move between host and
 * device only when an op on the other side needs them.
 *
 * On WebGPU every kernel call is asynchronous. Ops still return their storage at once: it is
 * pending, and its kernel runs in its turn on an in-order queue. `read` awaits it; `readSync`
 * works only on values already on the host and otherwise says to `await t.data()`.
 */
import type {
  Backend,
  BackendDescription,
  BinaryOp,
  DType,
  MatmulShape,
  MemoryInfo,
  ReduceOp,
  Shape,
  Storage,
  TypedArray,
  UnaryOp,
} from "../backend.ts";
import { allocate, CpuBackend, type CpuStorage } from "../cpu/backend.ts";
import { withAxisSize } from "../gather.ts";
import { Ledger } from "../ledger.ts";
import { sizeOf } from "../shape.ts";
import type { Device, DeviceArray, GpuMode, KernelArgument, Maybe } from "./device.ts";
import { binaryAccess, broadcastAccess, permuteAccess, reduceAccess, whereAccess } from "./layout.ts";
import {
  binaryKernel,
  copyKernel,
  gatherKernel,
  type KernelSpec,
  matmulKernel,
  maxElements,
  maxLoop,
  reduceKernel,
  reduceSpan,
  unaryKernel,
  whereKernel,
} from "./sources.ts";
import { GpuStorage, type Place, Queue, whenAll } from "./storage.ts";

/** What a job hands back: host values or a device array (in WebGPU mode, once its Promise settles). */
type Values = TypedArray | KernelArgument;

export class GpuBackend implements Backend {
  readonly name = "gpu";
  readonly asyncRead: boolean;
  /** The cpu backend's kernels, for the ops that do not run on the device. */
  private readonly cpu = new CpuBackend();
  private readonly queue = new Queue();
  private readonly ledger = new Ledger(this, GpuStorage, (place: Place) => this.release(place));
  /** Ops that ran on the cpu fallback, by name: shows what did not run on the device. */
  readonly fallbacks = new Map<string, number>();

  constructor(
    readonly device: Device,
    /** The adapter or renderer, as the driver names it. */
    readonly detail: string,
    /** Whether that is a software renderer (or no GPU at all): the kernels then run on the CPU. */
    readonly software: boolean,
  ) {
    this.asyncRead = device.async;
  }

  get mode(): GpuMode {
    return this.device.mode;
  }

  describe(): BackendDescription {
    return {
      name: this.name,
      threads: 1,
      gpuMode: this.mode,
      device: this.detail,
      softwareRenderer: this.software,
      summary: `gpu, gpu.js ${this.mode} on ${this.detail}${this.software ? " (a software renderer: shaders run on the CPU)" : ""}`,
    };
  }

  // ---- storages: making, reading, freeing ----

  private track(s: GpuStorage): GpuStorage {
    return this.ledger.add(s, s.place, s.bytes);
  }

  private hostStorage(data: TypedArray): GpuStorage {
    const s = this.track(new GpuStorage(data instanceof Float64Array ? "float64" : "float32", data.length));
    s.place.host = data;
    s.settled = true;
    return s;
  }

  /** The storage, checked: made by this backend and not disposed. */
  private get(x: Storage): GpuStorage {
    return this.ledger.check(x);
  }

  fromArray(data: TypedArray): Storage {
    return this.hostStorage(data.slice());
  }

  fill(size: number, value: number, dtype: DType): Storage {
    return this.hostStorage(allocate(size, dtype).fill(value));
  }

  read(x: Storage): Promise<TypedArray> {
    const s = this.get(x);
    if (!this.device.async) return Promise.resolve(this.readSync(s));
    // Queued, so that a dispose() called right after cannot free the values before they are copied.
    let values: TypedArray | undefined;
    return this.queue
      .push(async () => {
        values = (await this.hostOf(s)).slice();
      })
      .then(() => values as TypedArray);
  }

  readSync(x: Storage): TypedArray {
    const s = this.get(x);
    // On WebGPU only values already on the host can be had now: a read-back is always asynchronous.
    if (this.device.async && !(s.settled && (s.place.host !== null || s.place.error !== undefined))) {
      throw new Error(
        `gpu backend (${this.mode}): this tensor's values are still on the device and arrive asynchronously, so they cannot be read synchronously; use \`await t.data()\` (after it, dataSync() and item() work on that tensor too)`,
      );
    }
    const values = this.hostOf(s);
    if (values instanceof Promise) throw new Error("gpu backend: unexpected asynchronous read-back");
    return values.slice();
  }

  dispose(x: Storage): void {
    this.ledger.dispose(x);
  }

  /** Free a place's device array and host copy, after every op queued so far (which may read it). */
  private release(place: Place): void {
    const free = () => {
      if (place.device !== null) this.device.release(place.device);
      place.device = null;
      place.host = null;
    };
    if (this.device.async) void this.queue.push(free);
    else free();
  }

  /** Live storages and their bytes, wherever their values are (the same count as the cpu backend's). */
  memory(): MemoryInfo {
    return this.ledger.memory();
  }

  /** Textures or buffers allocated on the device and not yet freed (0 in the cpu and webasm modes). */
  deviceArrays(): number {
    return this.device.liveArrays;
  }

  /** Settles once every op issued so far has run (and every dispose has freed its buffers). */
  flush(): Promise<void> {
    return this.queue.drain();
  }

  // ---- running ops ----

  /** The values on the host, read back from the device (and kept) if they are only there. */
  private hostOf(s: GpuStorage): Maybe<TypedArray> {
    const { place } = s;
    if (place.error !== undefined) throw place.error;
    if (place.host !== null) return place.host;
    if (place.device === null) throw new Error("gpu backend: storage has no values (was it disposed?)");
    const values = this.device.toHost(place.device, s.size);
    const keep = (v: Float32Array) => {
      place.host = v;
      return v;
    };
    return values instanceof Promise ? values.then(keep) : keep(values);
  }

  /**
   * The values as a kernel argument. In pipeline modes that is always a device array: values on
   * the host are uploaded once, by a copy kernel, and the copy is kept for the next kernel. (A
   * gpu.js WebGPU kernel built for a device buffer also fails when later handed an array.)
   */
  private argument(s: GpuStorage): Maybe<KernelArgument> {
    const { place } = s;
    if (place.error !== undefined) throw place.error;
    if (place.device !== null) return place.device;
    const host = place.host as Float32Array;
    if (!this.device.resident) return host;
    const keep = (uploaded: KernelArgument) => {
      place.device = uploaded as DeviceArray;
      return uploaded;
    };
    const uploaded = this.device.run(copyKernel(s.size), [host], s.size);
    return uploaded instanceof Promise ? uploaded.then(keep) : keep(uploaded);
  }

  /**
   * A new storage whose values `work` computes from `inputs`: at once on a synchronous device,
   * in its turn on the queue on an asynchronous one (where a failure is kept and rethrown on read).
   * Work on the host whose inputs are all on the host already needs nothing from the queue and
   * runs at once too, so float64 tensors (computed on the host) read synchronously even on WebGPU.
   */
  private schedule(
    dtype: DType,
    size: number,
    inputs: readonly Storage[],
    work: (xs: GpuStorage[]) => Maybe<Values>,
    onHost = false,
  ): Storage {
    const xs = inputs.map((x) => this.get(x));
    const out = this.track(new GpuStorage(dtype, size));
    const settle = (values: Values) => {
      if (ArrayBuffer.isView(values)) out.place.host = values;
      else out.place.device = values;
      out.settled = true;
    };
    const ready = xs.every((x) => x.settled && x.place.host !== null);
    if (!this.device.async || (onHost && ready)) {
      const values = work(xs);
      if (values instanceof Promise) throw new Error("gpu backend: synchronous work returned a Promise");
      settle(values);
      return out;
    }
    void this.queue.push(async () => {
      try {
        settle(await work(xs));
      } catch (error) {
        out.place.error = error;
        out.settled = true;
      }
    });
    return out;
  }

  /** Run a kernel on the device. */
  private kernel(spec: KernelSpec, size: number, inputs: readonly Storage[]): Storage {
    return this.schedule("float32", size, inputs, (xs) =>
      whenAll(
        xs.map((x) => this.argument(x)),
        (args) => this.device.run(spec, args, size),
      ),
    );
  }

  /** Run the cpu backend's version of an op on host copies of the inputs. */
  private fallback(
    op: string,
    dtype: DType,
    size: number,
    inputs: readonly Storage[],
    run: (cpu: CpuBackend, xs: CpuStorage[]) => Storage,
  ): Storage {
    this.fallbacks.set(op, (this.fallbacks.get(op) ?? 0) + 1);
    return this.schedule(
      dtype,
      size,
      inputs,
      (xs) =>
        whenAll(
          xs.map((x) => this.hostOf(x)),
          (hosts) => {
            // The host arrays are lent to the cpu backend for the op, and its result is taken over.
            const lent = hosts.map((h) => this.cpu.adopt(h));
            try {
              return this.cpu.surrender(run(this.cpu, lent));
            } finally {
              for (const s of lent) this.cpu.surrender(s);
            }
          },
        ),
      true,
    );
  }

  /** Whether the device takes this op: float32, not empty, and small enough for exact float32 indices. */
  private onDevice(dtype: DType, ...sizes: number[]): boolean {
    return dtype === "float32" && sizes.every((n) => n > 0 && n <= maxElements);
  }

  // ---- the primitives ----

  write(dst: Storage, src: Storage): void {
    const d = this.get(dst);
    if (d.size !== src.size || d.dtype !== src.dtype) {
      throw new Error(
        `gpu backend: write needs one size and dtype, got ${d.size} ${d.dtype} and ${src.size} ${src.dtype}`,
      );
    }
    // A copy made where the values are, whose values then move into dst's place, in queue order:
    // ops queued before the write still read the old values, ops queued after it the new ones.
    const copied = this.get(this.copy(src));
    this.ledger.surrender(copied);
    const move = () => {
      const old = d.place.device;
      d.place.device = copied.place.device;
      d.place.host = copied.place.host;
      d.place.error = copied.place.error;
      if (old !== null && old !== d.place.device) this.device.release(old);
      d.settled = true;
    };
    if (!this.device.async) {
      move();
      return;
    }
    d.settled = false;
    void this.queue.push(move);
  }

  copy(x: Storage): Storage {
    // A float32 copy stays where the values are: a kernel on the device, a slice on the host.
    const { place, settled } = this.get(x);
    const onHost = settled && place.host !== null && place.device === null;
    if (x.dtype === "float32" && this.onDevice(x.dtype, x.size) && !onHost) {
      return this.kernel(copyKernel(x.size), x.size, [x]);
    }
    return this.fallback("copy", x.dtype, x.size, [x], (cpu, [a]) => cpu.copy(a));
  }

  cast(x: Storage, dtype: DType): Storage {
    if (dtype === x.dtype) return this.copy(x);
    return this.fallback("cast", dtype, x.size, [x], (cpu, [a]) => cpu.cast(a, dtype));
  }

  unary(op: UnaryOp, x: Storage): Storage {
    if (this.onDevice(x.dtype, x.size)) return this.kernel(unaryKernel(op, x.size), x.size, [x]);
    return this.fallback(op, x.dtype, x.size, [x], (cpu, [a]) => cpu.unary(op, a));
  }

  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    const size = sizeOf(outShape);
    const access = binaryAccess(aShape, bShape, outShape);
    if (this.onDevice(a.dtype, size, a.size, b.size) && access.shape.length <= 3) {
      return this.kernel(binaryKernel(op, access), size, [a, b]);
    }
    return this.fallback(op, a.dtype, size, [a, b], (cpu, [x, y]) =>
      cpu.binary(op, x, aShape, y, bShape, outShape),
    );
  }

  reduce(op: ReduceOp, x: Storage, shape: Shape, axes: readonly number[]): Storage {
    const size = sizeOf(shape.filter((_, i) => !axes.includes(i)));
    const run = reduceAccess(shape, axes);
    if (!this.onDevice(x.dtype, x.size, size) || run === null) {
      return this.fallback(`reduce:${op}`, x.dtype, size, [x], (cpu, [a]) => cpu.reduce(op, a, shape, axes));
    }
    // Fold groups of reduceSpan numbers per pass until one pass can fold what is left.
    const { outer, inner } = run;
    let reduced = run.reduced;
    let current = x;
    while (reduced > reduceSpan) {
      const groups = Math.ceil(reduced / reduceSpan);
      const partial = this.kernel(
        reduceKernel(op, outer, reduced, inner, reduceSpan),
        outer * groups * inner,
        [current],
      );
      if (current !== x) this.dispose(current);
      current = partial;
      reduced = groups;
    }
    const out = this.kernel(reduceKernel(op, outer, reduced, inner, reduced), size, [current]);
    if (current !== x) this.dispose(current);
    return out;
  }

  broadcastTo(x: Storage, shape: Shape, outShape: Shape): Storage {
    const size = sizeOf(outShape);
    const access = broadcastAccess(shape, outShape);
    if (this.onDevice(x.dtype, x.size, size) && access.shape.length <= 3) {
      return this.kernel(gatherKernel(access), size, [x]);
    }
    return this.fallback("broadcastTo", x.dtype, size, [x], (cpu, [a]) =>
      cpu.broadcastTo(a, shape, outShape),
    );
  }

  permute(x: Storage, shape: Shape, perm: readonly number[]): Storage {
    const access = permuteAccess(shape, perm);
    if (this.onDevice(x.dtype, x.size) && access.shape.length <= 3) {
      return this.kernel(gatherKernel(access), x.size, [x]);
    }
    return this.fallback("permute", x.dtype, x.size, [x], (cpu, [a]) => cpu.permute(a, shape, perm));
  }

  matmul(a: Storage, b: Storage, shape: MatmulShape): Storage {
    const { batch, m, k, n, transA, transB } = shape;
    if (batch === 1 && this.onDevice(a.dtype, m * k, k * n, m * n) && k <= maxLoop) {
      return this.kernel(matmulKernel(m, k, n, transA, transB), m * n, [a, b]);
    }
    // Batches of more than one product run on the host (named apart, to show in `fallbacks`).
    return this.fallback(
      batch === 1 ? "matmul" : "batchedMatmul",
      a.dtype,
      batch * m * n,
      [a, b],
      (cpu, [x, y]) => cpu.matmul(x, y, shape),
    );
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
    const size = sizeOf(outShape);
    const access = whereAccess(condShape, aShape, bShape, outShape);
    if (
      cond.dtype === "float32" &&
      this.onDevice(a.dtype, size, cond.size, a.size, b.size) &&
      access.shape.length <= 3
    ) {
      return this.kernel(whereKernel(access), size, [cond, a, b]);
    }
    return this.fallback("where", a.dtype, size, [cond, a, b], (cpu, [c, x, y]) =>
      cpu.where(c, condShape, x, aShape, y, bShape, outShape),
    );
  }

  gather(x: Storage, shape: Shape, axis: number, indices: Int32Array): Storage {
    const idx = indices.slice(); // the caller may reuse its array before a queued job runs
    return this.fallback("gather", x.dtype, sizeOf(withAxisSize(shape, axis, idx.length)), [x], (cpu, [a]) =>
      cpu.gather(a, shape, axis, idx),
    );
  }

  scatterAdd(x: Storage, shape: Shape, axis: number, indices: Int32Array, size: number): Storage {
    const idx = indices.slice();
    return this.fallback("scatterAdd", x.dtype, sizeOf(withAxisSize(shape, axis, size)), [x], (cpu, [a]) =>
      cpu.scatterAdd(a, shape, axis, idx, size),
    );
  }
}
