/**
 * The cpu backend's storage: every kernel writes all of its output, so a recycled array's old
 * contents never show; memory() counts live buffers and bytes; a disposed storage stays unusable;
 * what it copies (fromArray, reads) and what it hands over (adopt, surrender); write; the pool's
 * limits. (describe() is in ../describe.test.ts.)
 */
import { describe, expect, it } from "vitest";
import type { DType } from "../../../src/kernels/backend.ts";
import { CpuBackend } from "../../../src/kernels/cpu/backend.ts";
import { typedArray } from "../../fixtures/tensors.ts";

const cpu = new CpuBackend();

function read(storage: ReturnType<CpuBackend["fromArray"]>): number[] {
  return Array.from(cpu.readSync(storage));
}

describe("recycled buffers", () => {
  it("every kernel writes all of its output, so a recycled array's old contents never show", () => {
    const backend = new CpuBackend();
    /** Hand the backend's pool NaN-filled arrays of `size`, the worst leftovers a kernel could read. */
    const poison = (size: number, dtype: DType) => {
      for (let i = 0; i < 8; i++) backend.dispose(backend.fill(size, Number.NaN, dtype));
    };
    const from = (values: number[], dtype: DType) => backend.fromArray(typedArray(dtype, values));
    for (const dtype of ["float64", "float32"] as const) {
      const readBack = (s: ReturnType<CpuBackend["fill"]>) => Array.from(backend.readSync(s));
      poison(6, dtype);
      expect(
        readBack(backend.reduce("sum", from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], dtype), [2, 6], [0])),
      ).toEqual([8, 10, 12, 14, 16, 18]);
      poison(6, dtype);
      expect(readBack(backend.reduce("max", from([1, 2, 3, 4, 5, 6], dtype), [6], []))).toEqual([
        1, 2, 3, 4, 5, 6,
      ]);
      poison(6, dtype);
      expect(readBack(backend.scatterAdd(from([1, 2], dtype), [1, 2], 0, Int32Array.from([1]), 3))).toEqual([
        0, 0, 1, 2, 0, 0,
      ]);
      poison(6, dtype);
      expect(
        readBack(
          backend.matmul(from([], dtype), from([], dtype), {
            batch: 1,
            m: 2,
            k: 0,
            n: 3,
            transA: false,
            transB: false,
          }),
        ),
      ).toEqual([0, 0, 0, 0, 0, 0]);
      poison(6, dtype);
      expect(readBack(backend.broadcastTo(from([1, 2, 3], dtype), [3], [2, 3]))).toEqual([1, 2, 3, 1, 2, 3]);
      poison(6, dtype);
      expect(
        readBack(backend.binary("add", from([1, 2], dtype), [2, 1], from([10, 20, 30], dtype), [3], [2, 3])),
      ).toEqual([11, 21, 31, 12, 22, 32]);
      poison(6, dtype);
      expect(readBack(backend.permute(from([1, 2, 3, 4, 5, 6], dtype), [2, 3], [1, 0]))).toEqual([
        1, 4, 2, 5, 3, 6,
      ]);
      poison(6, dtype);
      expect(
        readBack(backend.gather(from([1, 2, 3, 4], dtype), [2, 2], 0, Int32Array.from([1, 0, 1]))),
      ).toEqual([3, 4, 1, 2, 3, 4]);
      poison(1, dtype);
      expect(readBack(backend.reduce("sum", from([], dtype), [0], [0]))).toEqual([0]);
    }
  });

  it("a disposed storage stays unusable even after its array is handed out again", () => {
    const backend = new CpuBackend();
    const a = backend.fromArray(new Float64Array([1, 2, 3]));
    backend.dispose(a);
    const b = backend.fill(3, 7, "float64");
    expect(() => backend.readSync(a)).toThrow(/after dispose/);
    expect(Array.from(backend.readSync(b))).toEqual([7, 7, 7]);
  });
});

describe("memory accounting", () => {
  it("memory() counts live buffers and bytes; dispose frees once; use after dispose throws", () => {
    const backend = new CpuBackend();
    expect(backend.memory()).toEqual({ buffers: 0, bytes: 0 });
    const a = backend.fromArray(new Float32Array(10));
    const b = backend.fill(3, 1, "float64");
    expect(backend.memory()).toEqual({ buffers: 2, bytes: 40 + 24 });
    backend.dispose(a);
    backend.dispose(a);
    expect(backend.memory()).toEqual({ buffers: 1, bytes: 24 });
    expect(() => backend.readSync(a)).toThrow(/after dispose/);
    expect(() => backend.unary("neg", a)).toThrow(/after dispose/);
    expect(read(b)).toEqual([1, 1, 1]);
    expect(() => backend.readSync(cpu.fill(1, 0, "float32"))).not.toThrow();
  });
});

describe("what the cpu backend copies and what it hands over", () => {
  it("fromArray copies its input, and readSync and read hand out copies", async () => {
    const backend = new CpuBackend();
    const source = Float32Array.of(1, 2, 3);
    const s = backend.fromArray(source);
    source[0] = 99;
    const seen = backend.readSync(s);
    seen[1] = 99;
    (await backend.read(s))[2] = 99;
    expect(Array.from(backend.readSync(s))).toEqual([1, 2, 3]);
  });

  it("adopt keeps the array itself, and surrender gives that array back and forgets the storage", () => {
    const backend = new CpuBackend();
    const data = Float64Array.of(1, 2);
    const s = backend.adopt(data);
    expect(s.dtype).toBe("float64");
    expect(backend.memory()).toEqual({ buffers: 1, bytes: 16 });
    data[0] = 5; // the storage is the array, not a copy of it
    expect(Array.from(backend.readSync(s))).toEqual([5, 2]);
    expect(backend.surrender(s)).toBe(data);
    expect(backend.memory()).toEqual({ buffers: 0, bytes: 0 });
    expect(() => backend.readSync(s)).toThrow(/^cpu backend: storage used after dispose\(\)$/);
    expect(Array.from(data)).toEqual([5, 2]); // the caller's now, untouched
  });

  it("write overwrites in place, and refuses another size or dtype, naming both", () => {
    const backend = new CpuBackend();
    const dst = backend.fromArray(Float32Array.of(0, 0));
    backend.write(dst, backend.fromArray(Float32Array.of(3, 4)));
    expect(Array.from(backend.readSync(dst))).toEqual([3, 4]);
    expect(() => backend.write(dst, backend.fromArray(Float32Array.of(1, 2, 3)))).toThrow(
      /^cpu backend: write needs one size and dtype, got 2 float32 and 3 float32$/,
    );
    expect(() => backend.write(dst, backend.fromArray(Float64Array.of(1, 2)))).toThrow(
      /^cpu backend: write needs one size and dtype, got 2 float32 and 2 float64$/,
    );
    expect(Array.from(backend.readSync(dst))).toEqual([3, 4]);
  });
});

describe("the pool of freed arrays", () => {
  /** Whether an array freed by dispose() comes back from the next allocation of its size. */
  function recycled(backend: CpuBackend, data: Float32Array): boolean {
    backend.dispose(backend.adopt(data));
    return backend.surrender(backend.fill(data.length, 0, "float32")) === data;
  }

  it("hands a freed array out again for the next storage of its size and dtype", () => {
    const backend = new CpuBackend();
    expect(recycled(backend, new Float32Array(1000))).toBe(true);
    const data = new Float32Array(10);
    backend.dispose(backend.adopt(data));
    // Compared as booleans: toBe on two large arrays would compare them deeply for its message.
    expect(backend.surrender(backend.fill(10, 0, "float64")) === data).toBe(false); // another dtype
    expect(backend.surrender(backend.fill(11, 0, "float32")) === data).toBe(false); // another size
  });

  it("leaves an array over 16 MiB to the garbage collector", () => {
    const backend = new CpuBackend();
    expect(CpuBackend.poolMaxBytes).toBe(16 * 2 ** 20);
    expect(recycled(backend, new Float32Array(CpuBackend.poolMaxBytes / 4))).toBe(true);
    expect(recycled(backend, new Float32Array(CpuBackend.poolMaxBytes / 4 + 1))).toBe(false);
  });

  it("holds at most 128 MiB in all: a run of ever new sizes is not kept for good", () => {
    const backend = new CpuBackend();
    const size = (i: number) => CpuBackend.poolMaxBytes / 4 - i; // a new size each time, 16 MiB less i floats
    const kept: Float32Array[] = [];
    for (let i = 0; i < 8; i++) {
      const data = new Float32Array(size(i));
      backend.dispose(backend.adopt(data));
      kept.push(data);
    }
    // Eight pooled arrays of just under 16 MiB: a ninth would pass 128 MiB, and is not kept.
    const ninth = new Float32Array(size(8));
    backend.dispose(backend.adopt(ninth));
    expect(backend.surrender(backend.fill(size(8), 0, "float32")) === ninth).toBe(false);
    // Taking one out makes room again.
    expect(backend.surrender(backend.fill(size(0), 0, "float32")) === kept[0]).toBe(true);
    expect(recycled(backend, new Float32Array(size(9)))).toBe(true);
  });
});
