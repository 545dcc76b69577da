/**
 * The CPU backend: storage is a Float32Array or Float64Array, every kernel a loop over it.
 * It is the readable reference the other backends are tested against, and the fallback.
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
import { gatherInto, scatterAddInto, withAxisSize } from "../gather.ts";
import { Ledger } from "../ledger.ts";
import { MAX_TENSOR_SIZE, sizeOf } from "../shape.ts";
import { mapInto, whereInto, zipInto } from "./elementwise.ts";
import { matmulInto } from "./matmul.ts";
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
  describe(): BackendDescription {
    return {
      name: this.name,
      threads: 1,
      gpuMode: null,
      device: null,
      softwareRenderer: false,
      summary: `${this.name}, plain TypeScript on one thread`,
    };
  }

  /**
   * Arrays of freed storages, by dtype and length, handed out again by `take`. A training step
   * allocates the same sizes every time, so after `releaseGraph` the next step reuses them instead
   * of making the garbage collector find and free thousands of arrays. The pool keeps at most
   * poolDepth arrays of a size, none over poolMaxBytes and poolTotalBytes in all, so that a one-off
   * huge tensor, or a run of ever new sizes, is not held for good: those go to the garbage collector.
   */
  private readonly pool = new Map<string, TypedArray[]>();
  private pooledBytes = 0;
  private static readonly poolDepth = 8;
  static readonly poolMaxBytes = 16 * 2 ** 20;
  static readonly poolTotalBytes = 128 * 2 ** 20;
  private readonly ledger = new Ledger(this, CpuStorage, (data: TypedArray) => this.recycle(data));

  /** An array of `size` elements, recycled when one is free. Its contents are arbitrary. */
  protected take(size: number, dtype: DType): TypedArray {
    const pooled = this.pool.get(`${dtype}:${size}`)?.pop();
    if (pooled === undefined) return allocate(size, dtype);
    this.pooledBytes -= pooled.byteLength;
    return pooled;
  }

  private recycle(data: TypedArray): void {
    if (data.byteLength > CpuBackend.poolMaxBytes) return;
    if (this.pooledBytes + data.byteLength > CpuBackend.poolTotalBytes) return;
    const key = `${dtypeOf(data)}:${data.length}`;
    const free = this.pool.get(key) ?? [];
    if (free.length >= CpuBackend.poolDepth) return;
    free.push(data);
    this.pool.set(key, free);
    this.pooledBytes += data.byteLength;
  }

  protected wrap(data: TypedArray): CpuStorage {
    return this.ledger.add(new CpuStorage(data, dtypeOf(data)), data, data.byteLength);
  }

  /** The typed array behind a storage, with a clear error if it is not ours or was disposed. */
  protected get(x: Storage): TypedArray {
    return this.ledger.check(x).data;
  }

  /** A storage over `data` itself, not a copy: the caller hands the array over until `surrender`. */
  adopt(data: TypedArray): CpuStorage {
    return this.wrap(data);
  }

  /** The array behind `x`, which stops being a storage of this backend (it is not recycled). */
  surrender(x: Storage): TypedArray {
    const s = this.ledger.check(x);
    this.ledger.surrender(s);
    const data = s.data;
    s.data = allocate(0, s.dtype);
    return data;
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
    // The array goes back to the pool; the storage keeps none of it, so a stale view reads nothing.
    if (this.ledger.dispose(x)) (x as CpuStorage).data = allocate(0, x.dtype);
  }

  memory(): MemoryInfo {
    return this.ledger.memory();
  }

  write(dst: Storage, src: Storage): void {
    const [to, from] = [this.get(dst), this.get(src)];
    if (to.length !== from.length || dst.dtype !== src.dtype) {
      throw new Error(
        `${this.name} backend: write needs one size and dtype, got ${to.length} ${dst.dtype} and ${from.length} ${src.dtype}`,
      );
    }
    to.set(from);
  }

  copy(x: Storage): Storage {
    return this.cast(x, x.dtype);
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

  matmul(a: Storage, b: Storage, shape: MatmulShape): Storage {
    const out = this.take(shape.batch * shape.m * shape.n, a.dtype);
    matmulInto(this.get(a), this.get(b), shape, out);
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
