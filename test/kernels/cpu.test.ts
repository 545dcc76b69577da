/**
 * The CPU backend's kernels against references written the slow, obvious way: a triple loop for
 * matmul, and per-element index arithmetic (unravel the output index, find the input element) for
 * broadcasting, reductions and permutes.
 *
 * The special values (NaN, ±Infinity, ±0, subnormals) and what every backend must share are in the
 * conformance suite (conformance.ts); here the reference itself is checked against the naive way.
 *
 * Tolerances: permute, broadcast, max and each elementwise op do one operation per element (or
 * none), so they must match exactly. Sums and dot products of n float64 numbers may round
 * differently in another order; they must agree within n·2⁻⁵²·Σ|terms| (the recursive summation
 * bound, doubled).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BinaryOp, DType, Shape, TypedArray } from "../../src/kernels/backend.ts";
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";
import { sizeOf } from "../../src/kernels/shape.ts";

const RUNS = { numRuns: 50 };

/** What each binary op means, written here rather than taken from the backend. */
const binaryReference: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  max: Math.max,
  min: Math.min,
  eq: (a, b) => (a === b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
};

/** Equal as numbers: NaN equals NaN, and −0 equals +0 (max/min of the two may give either). */
function sameNumber(x: number, y: number): boolean {
  return x === y || (Number.isNaN(x) && Number.isNaN(y));
}

function expectSameNumbers(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!sameNumber(actual[i], expected[i]))
      expect.fail(`element ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}
const EPS64 = 2 ** -52;
const cpu = new CpuBackend();

/** Odd and even sizes around the 4×4 register block: edge tiles in every direction. */
const dimArb = fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9);
const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 });

function valuesArb(size: number): fc.Arbitrary<number[]> {
  return fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: size, maxLength: size });
}

function typed(values: number[], dtype: DType): TypedArray {
  return dtype === "float64" ? Float64Array.from(values) : Float32Array.from(values);
}

function read(storage: ReturnType<CpuBackend["fromArray"]>): number[] {
  return Array.from(cpu.readSync(storage));
}

/** The multi-index of flat position `flat` in a row-major array of `shape`. */
function unravel(flat: number, shape: Shape): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return index;
}

/** The flat position of `index` in a row-major array of `shape`. */
function ravel(index: readonly number[], shape: Shape): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + index[d];
  return flat;
}

/** The element of an array of `shape` that output index `outIndex` reads after broadcasting. */
function broadcastSource(outIndex: readonly number[], shape: Shape): number {
  const offset = outIndex.length - shape.length;
  return ravel(
    shape.map((d, i) => (d === 1 ? 0 : outIndex[i + offset])),
    shape,
  );
}

/** Two shapes that broadcast: suffixes of a common shape with some dimensions set to 1. */
const broadcastPairArb = shapeArb.chain((out) => {
  const operand = fc
    .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }))
    .map(([rank, ones]) => out.slice(out.length - rank).map((d, i) => (ones[i] ? 1 : d)));
  return fc.tuple(operand, operand);
});

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
            fc.tuple(fc.constant([m, k, n] as const), valuesArb(m * k), valuesArb(k * n)),
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

describe("binary ops with broadcasting vs naive index computation", () => {
  const ops: BinaryOp[] = ["add", "sub", "mul", "div", "max", "min", "eq", "lt", "pow"];
  for (const dtype of ["float64", "float32"] as const) {
    it(`every op, ${dtype}`, () => {
      const arb = broadcastPairArb.chain(([aShape, bShape]) =>
        fc.tuple(
          fc.constant(aShape),
          fc.constant(bShape),
          valuesArb(sizeOf(aShape)),
          valuesArb(sizeOf(bShape)),
          fc.constantFrom(...ops),
        ),
      );
      fc.assert(
        fc.property(arb, ([aShape, bShape, av, bv, op]) => {
          const n = Math.max(aShape.length, bShape.length);
          const outShape = Array.from({ length: n }, (_, i) =>
            Math.max(aShape[aShape.length - n + i] ?? 1, bShape[bShape.length - n + i] ?? 1),
          );
          const a = typed(av, dtype);
          const b = typed(bv, dtype);
          const out = cpu.binary(op, cpu.fromArray(a), aShape, cpu.fromArray(b), bShape, outShape);
          expect(out.dtype).toBe(dtype);
          const expected = typed(
            Array.from({ length: sizeOf(outShape) }, (_, i) => {
              const index = unravel(i, outShape);
              return binaryReference[op](
                a[broadcastSource(index, aShape)],
                b[broadcastSource(index, bShape)],
              );
            }),
            dtype,
          );
          expectSameNumbers(read(out), expected);
        }),
        RUNS,
      );
    });
  }
});

describe("reduce over arbitrary axes vs a naive reference", () => {
  for (const dtype of ["float64", "float32"] as const) {
    it(`sum and max, ${dtype}`, () => {
      const arb = shapeArb.chain((shape) =>
        fc.tuple(
          fc.constant(shape),
          valuesArb(sizeOf(shape)),
          fc.subarray(shape.map((_, i) => i)),
          fc.constantFrom("sum" as const, "max" as const),
        ),
      );
      fc.assert(
        fc.property(arb, ([shape, values, axes, op]) => {
          const x = typed(values, dtype);
          const keptShape = shape.filter((_, i) => !axes.includes(i));
          const size = sizeOf(keptShape);
          // Each input element folded into the output element its kept coordinates name.
          const acc = new Float64Array(size).fill(op === "sum" ? 0 : Number.NEGATIVE_INFINITY);
          const abs = new Float64Array(size);
          for (let i = 0; i < x.length; i++) {
            const index = unravel(i, shape);
            const o = ravel(
              index.filter((_, d) => !axes.includes(d)),
              keptShape,
            );
            acc[o] = op === "sum" ? acc[o] + x[i] : Math.max(acc[o], x[i]);
            abs[o] += Math.abs(x[i]);
          }
          const out = cpu.reduce(op, cpu.fromArray(x), shape, axes);
          expect(out.dtype).toBe(dtype);
          const got = read(out);
          expect(got).toHaveLength(size);
          const n = sizeOf(axes.map((a) => shape[a]));
          // float32 accumulation rounds at each step; float64 accumulation only in the order of terms.
          const unit = dtype === "float64" ? EPS64 : 2 ** -23;
          for (let o = 0; o < size; o++) {
            const expected = dtype === "float64" ? acc[o] : Math.fround(acc[o]);
            // == rather than Object.is: the maximum of −0 and +0 may be either.
            if (op === "max") expect(got[o] === expected, `output ${o}: ${got[o]} vs ${expected}`).toBe(true);
            else
              expect(Math.abs(got[o] - acc[o]), `output ${o}`).toBeLessThanOrEqual(
                n * unit * abs[o] + unit * Math.abs(acc[o]),
              );
          }
        }),
        RUNS,
      );
    });
  }

  it("empty axes: a sum over nothing is 0, a reduction over no axes is a copy", () => {
    expect(read(cpu.reduce("sum", cpu.fromArray(new Float64Array(0)), [2, 0], [1]))).toEqual([0, 0]);
    expect(read(cpu.reduce("sum", cpu.fromArray(new Float64Array([1, 2, 3])), [3], []))).toEqual([1, 2, 3]);
    expect(read(cpu.reduce("max", cpu.fromArray(new Float64Array([4])), [], []))).toEqual([4]);
  });
});

describe("broadcastTo and permute vs naive index computation", () => {
  it("broadcastTo", () => {
    const arb = broadcastPairArb.chain(([shape, other]) => {
      const n = Math.max(shape.length, other.length);
      const outShape = Array.from({ length: n }, (_, i) =>
        Math.max(shape[shape.length - n + i] ?? 1, other[other.length - n + i] ?? 1),
      );
      return fc.tuple(fc.constant(shape), fc.constant(outShape), valuesArb(sizeOf(shape)));
    });
    fc.assert(
      fc.property(arb, ([shape, outShape, values]) => {
        const x = Float64Array.from(values);
        const out = read(cpu.broadcastTo(cpu.fromArray(x), shape, outShape));
        const expected = Array.from(
          { length: sizeOf(outShape) },
          (_, i) => x[broadcastSource(unravel(i, outShape), shape)],
        );
        expect(out).toEqual(expected);
      }),
      RUNS,
    );
  });

  it("permute", () => {
    const arb = shapeArb.chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.shuffledSubarray(
          shape.map((_, i) => i),
          { minLength: shape.length, maxLength: shape.length },
        ),
        valuesArb(sizeOf(shape)),
      ),
    );
    fc.assert(
      fc.property(arb, ([shape, perm, values]) => {
        const x = Float64Array.from(values);
        const outShape = perm.map((p) => shape[p]);
        const out = read(cpu.permute(cpu.fromArray(x), shape, perm));
        // out[i₀…] = x[j] with j[perm[d]] = i[d]
        const expected = Array.from({ length: x.length }, (_, flat) => {
          const i = unravel(flat, outShape);
          const j = new Array<number>(shape.length);
          perm.forEach((p, d) => {
            j[p] = i[d];
          });
          return x[ravel(j, shape)];
        });
        expect(out).toEqual(expected);
      }),
      RUNS,
    );
  });
});

describe("recycled buffers", () => {
  it("every kernel writes all of its output, so a recycled array's old contents never show", () => {
    const backend = new CpuBackend();
    /** Hand the backend's pool NaN-filled arrays of `size`, the worst leftovers a kernel could read. */
    const poison = (size: number, dtype: DType) => {
      for (let i = 0; i < 8; i++) backend.dispose(backend.fill(size, Number.NaN, dtype));
    };
    const from = (values: number[], dtype: DType) => backend.fromArray(typed(values, dtype));
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
