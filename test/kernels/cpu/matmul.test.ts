/**
 * The cpu backend's packed 4×4 matmul kernel against a naive triple loop, every transpose variant
 * at odd sizes, both dtypes, k = 0, and products of different sizes in turn (the packing buffers
 * are reused). Dot products of n float64 numbers may round differently in another order: they must
 * agree within n·2⁻⁵²·Σ|terms| (the recursive summation bound, doubled).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TypedArray } from "../../../src/kernels/backend.ts";
import { CpuBackend } from "../../../src/kernels/cpu/backend.ts";
import { valuesArb } from "../../fixtures/arbitraries.ts";

const RUNS = { numRuns: 50 };

const EPS64 = 2 ** -52;

const cpu = new CpuBackend();

/** Odd and even sizes around the 4×4 register block: edge tiles in every direction. */
const dimArb = fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9);

function read(storage: ReturnType<CpuBackend["fromArray"]>): number[] {
  return Array.from(cpu.readSync(storage));
}

describe("matmul: packed 4×4 kernel vs a naive triple loop", () => {
  function naive(a: TypedArray, b: TypedArray, m: number, k: number, n: number, tA: boolean, tB: boolean) {
    const c = new Float64Array(m * n);
    const abs = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        for (let p = 0; p < k; p++) {
          const term = (tA ? a[p * m + i] : a[i * k + p]) * (tB ? b[j * k + p] : b[p * n + j]);
          c[i * n + j] += term;
          abs[i * n + j] += Math.abs(term);
        }
      }
    }
    return { c, abs };
  }

  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`transA=${transA}, transB=${transB}, odd sizes`, () => {
        const arb = fc
          .tuple(dimArb, dimArb, dimArb)
          .chain(([m, k, n]) =>
            fc.tuple(fc.constant([m, k, n] as const), valuesArb(m * k, -10, 10), valuesArb(k * n, -10, 10)),
          );
        fc.assert(
          fc.property(arb, ([[m, k, n], av, bv]) => {
            const a = Float64Array.from(av);
            const b = Float64Array.from(bv);
            const out = read(
              cpu.matmul(cpu.fromArray(a), cpu.fromArray(b), { batch: 1, m, k, n, transA, transB }),
            );
            const { c, abs } = naive(a, b, m, k, n, transA, transB);
            expect(out).toHaveLength(m * n);
            for (let i = 0; i < m * n; i++) {
              expect(Math.abs(out[i] - c[i]), `C[${i}] with m=${m} k=${k} n=${n}`).toBeLessThanOrEqual(
                k * EPS64 * abs[i],
              );
            }
          }),
          RUNS,
        );
      });
    }
  }

  it("float32 in, float32 out; k = 0 gives zeros", () => {
    const c = cpu.matmul(
      cpu.fromArray(new Float32Array([1, 2, 3, 4])),
      cpu.fromArray(new Float32Array([1, 1])),
      { batch: 1, m: 2, k: 2, n: 1, transA: false, transB: false },
    );
    expect(c.dtype).toBe("float32");
    expect(read(c)).toEqual([3, 7]);
    expect(
      read(
        cpu.matmul(cpu.fromArray(new Float64Array(0)), cpu.fromArray(new Float64Array(0)), {
          batch: 1,
          m: 3,
          k: 0,
          n: 2,
          transA: false,
          transB: false,
        }),
      ),
    ).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("products of different sizes in turn (the packing buffers are reused between calls)", () => {
    // Small integers, so every sum is exact and the comparison can be exact too.
    const product = (m: number, k: number, n: number) => {
      const a = Float64Array.from({ length: m * k }, (_, i) => (i % 7) - 3);
      const b = Float64Array.from({ length: k * n }, (_, i) => (i % 5) - 2);
      const out = read(
        cpu.matmul(cpu.fromArray(a), cpu.fromArray(b), { batch: 1, m, k, n, transA: false, transB: false }),
      );
      expect(out).toEqual(Array.from(naive(a, b, m, k, n, false, false).c));
    };
    for (const [m, k, n] of [
      [33, 17, 9],
      [3, 2, 5],
      [1, 1, 1],
      [6, 40, 7],
      [33, 17, 9],
    ]) {
      product(m, k, n);
    }
  });
});
