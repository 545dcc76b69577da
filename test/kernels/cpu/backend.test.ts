/**
 * The cpu backend's storage: every kernel writes all of its output, so a recycled array's old
 * contents never show; memory() counts live buffers and bytes; a disposed storage stays unusable.
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
