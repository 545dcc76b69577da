/**
 * The CPU backend: storage is a Float32Array or Float64Array, every kernel a loop over it.
 * It is the readable reference the other backends are tested against, and the fallback.
 */
import type {
  Backend,
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
import { gatherInto, scatterAddInto, withAxisSize } from "../gather.ts";
import { MAX_TENSOR_SIZE, sizeOf } from "../shape.ts";
import { mapInto, whereInto, zipInto } from "./elementwise.ts";
import { batchedMatmulInto, matmulInto } from "./matmul.ts";
import { broadcastInto, permuteInto, reduceInto } from "./reduce.ts";

export class CpuStorage implements Storage {
  constructor(
    public data: TypedArray,
    readonly dtype: DType,
  ) {}
  get size(): number {
    return this.data.length;
  }
}

export function allocate(size: number, dtype: DType): TypedArray {
  if (size > MAX_TENSOR_SIZE)
    throw new Error(`a tensor of ${size} numbers is more than the ${MAX_TENSOR_SIZE} one array can hold`);
  return dtype === "float64" ? new Float64Array(size) : new Float32Array(size);
}

export function dtypeOf(data: TypedArray): DType {
  return data instanceof Float64Array ? "float64" : "float32";
}

export class CpuBackend implements Backend {
  readonly name: string = "cpu";
  readonly asyncRead = false;
  private live = 0;
  private liveBytes = 0;
  // Storages dropped without dispose() are counted down when the garbage collector takes them.
  private readonly collected = new FinalizationRegistry<number>((bytes) => this.forget(bytes));
  private readonly disposed = new WeakSet<CpuStorage>();
  /**
   * Arrays of disposed storages, by dtype and length, handed out again by `take`. A training step
   * allocates the same sizes every time, so after `releaseGraph` the next step reuses them instead
   * of making the garbage collector find and free thousands of arrays.
   */
  private readonly pool = new Map<string, TypedArray[]>();
  private static readonly poolDepth = 8;

  /** An array of `size` elements, recycled when one is free. Its contents are arbitrary. */
  protected take(size: number, dtype: DType): TypedArray {
    return this.pool.get(`${dtype}:${size}`)?.pop() ?? allocate(size, dtype);
  }

  protected wrap(data: TypedArray): CpuStorage {
    const s = new CpuStorage(data, dtypeOf(data));
    this.live++;
    this.liveBytes += data.byteLength;
    this.collected.register(s, data.byteLength, s);
    return s;
  }

  private forget(bytes: number): void {
    this.live--;
    this.liveBytes -= bytes;
  }

  /** The typed array behind a storage, with a clear error if it is not ours or was disposed. */
  protected get(x: Storage): TypedArray {
    if (!(x instanceof CpuStorage))
      throw new Error(`${this.name} backend: got a storage made by another backend`);
    if (this.disposed.has(x)) throw new Error(`${this.name} backend: storage used after dispose()`);
    return x.data;
  }

  fromArray(data: TypedArray): Storage {
    return this.wrap(data.slice());
  }

  fill(size: number, value: number, dtype: DType): Storage {
    return this.wrap(this.take(size, dtype).fill(value));
  }

  read(x: Storage): Promise<TypedArray> {
    return Promise.resolve(this.readSync(x));
  }

  readSync(x: Storage): TypedArray {
    return this.get(x).slice();
  }

  dispose(x: Storage): void {
    if (!(x instanceof CpuStorage) || this.disposed.has(x)) return;
    this.disposed.add(x);
    this.collected.unregister(x);
    this.forget(x.data.byteLength);
    const free = this.pool.get(`${x.dtype}:${x.data.length}`) ?? [];
    if (free.length < CpuBackend.poolDepth) free.push(x.data);
    this.pool.set(`${x.dtype}:${x.data.length}`, free);
    x.data = allocate(0, x.dtype);
  }

  memory(): MemoryInfo {
    return { buffers: this.live, bytes: this.liveBytes };
  }

  cast(x: Storage, dtype: DType): Storage {
    const out = this.take(x.size, dtype);
    out.set(this.get(x));
    return this.wrap(out);
  }

  unary(op: UnaryOp, x: Storage): Storage {
    const out = this.take(x.size, x.dtype);
    mapInto(op, this.get(x), out);
    return this.wrap(out);
  }

  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    const out = this.take(sizeOf(outShape), a.dtype);
    zipInto(op, this.get(a), aShape, this.get(b), bShape, outShape, out);
    return this.wrap(out);
  }

  reduce(op: ReduceOp, x: Storage, shape: Shape, axes: readonly number[]): Storage {
    const keptSize = sizeOf(shape.filter((_, i) => !axes.includes(i)));
    const out = this.take(keptSize, x.dtype);
    reduceInto(op, this.get(x), shape, axes, out);
    return this.wrap(out);
  }

  broadcastTo(x: Storage, shape: Shape, outShape: Shape): Storage {
    const out = this.take(sizeOf(outShape), x.dtype);
    broadcastInto(this.get(x), shape, outShape, out);
    return this.wrap(out);
  }

  permute(x: Storage, shape: Shape, perm: readonly number[]): Storage {
    const out = this.take(x.size, x.dtype);
    permuteInto(this.get(x), shape, perm, out);
    return this.wrap(out);
  }

  matmul(a: Storage, b: Storage, m: number, k: number, n: number, transA: boolean, transB: boolean): Storage {
    const out = this.take(m * n, a.dtype);
    matmulInto(this.get(a), this.get(b), m, k, n, transA, transB, out);
    return this.wrap(out);
  }

  batchedMatmul(a: Storage, b: Storage, shape: BatchedMatmulShape): Storage {
    const out = this.take(shape.batch * shape.m * shape.n, a.dtype);
    batchedMatmulInto(this.get(a), this.get(b), shape, out);
    return this.wrap(out);
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
    const out = this.take(sizeOf(outShape), a.dtype);
    whereInto(this.get(cond), condShape, this.get(a), aShape, this.get(b), bShape, outShape, out);
    return this.wrap(out);
  }

  gather(x: Storage, shape: Shape, axis: number, indices: Int32Array): Storage {
    const out = this.take(sizeOf(withAxisSize(shape, axis, indices.length)), x.dtype);
    gatherInto(this.get(x), shape, axis, indices, out);
    return this.wrap(out);
  }

  scatterAdd(x: Storage, shape: Shape, axis: number, indices: Int32Array, size: number): Storage {
    const out = this.take(sizeOf(withAxisSize(shape, axis, size)), x.dtype);
    scatterAddInto(this.get(x), shape, axis, indices, size, out);
    return this.wrap(out);
  }
}
