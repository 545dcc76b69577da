/**
 * The Backend primitives that indexing ops compose from — gather and scatterAdd along an axis,
 * where, batchedMatmul — as tests to run on a backend: against plain-JavaScript references written
 * here (per multi-index, not per slab, so they share no code with the kernels) on the cpu backend,
 * against the cpu backend on the others. gather.test.ts runs them on cpu and wasm,
 * gpu/backend.indexing.test.ts on the gpu backend.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Backend, DType, Shape } from "../../src/kernels/backend.ts";
import { sizeOf } from "../../src/kernels/shape.ts";
import { broadcastPairArb } from "../fixtures/arbitraries.ts";
import { broadcastSource, ravel, unravel } from "../fixtures/ravel.ts";
import { typedArray } from "../fixtures/tensors.ts";

const RUNS = { numRuns: 40 };

export function referenceGather(
  x: ArrayLike<number>,
  shape: Shape,
  axis: number,
  indices: Int32Array,
): number[] {
  const outShape = shape.map((d, i) => (i === axis ? indices.length : d));
  return Array.from({ length: sizeOf(outShape) }, (_, flat) => {
    const at = unravel(flat, outShape);
    at[axis] = indices[at[axis]];
    return x[ravel(at, shape)];
  });
}

function referenceScatterAdd(
  x: ArrayLike<number>,
  shape: Shape,
  axis: number,
  indices: Int32Array,
  size: number,
): number[] {
  const outShape = shape.map((d, i) => (i === axis ? size : d));
  const out = new Array<number>(sizeOf(outShape)).fill(0);
  for (let flat = 0; flat < x.length; flat++) {
    const at = unravel(flat, shape);
    at[axis] = indices[at[axis]];
    out[ravel(at, outShape)] += x[flat];
  }
  return out;
}

function referenceMatmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  batch: number,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
): number[] {
  const out: number[] = [];
  for (let s = 0; s < batch; s++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) {
          const av = a[s * m * k + (transA ? p * m + i : i * k + p)];
          const bv = b[s * k * n + (transB ? j * k + p : p * n + j)];
          acc += av * bv;
        }
        out.push(acc);
      }
    }
  }
  return out;
}

/** A shape of rank 1..4 (dimensions 0..4, so empty ones too), an axis, and indices into it (repeats allowed). */
const gatherCaseArb = fc
  .array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 })
  .chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      axis: fc.integer({ min: 0, max: shape.length - 1 }),
      dtype: fc.constantFrom<DType>("float32", "float64"),
    }),
  )
  .chain(({ shape, axis, dtype }) =>
    fc.record({
      shape: fc.constant(shape),
      axis: fc.constant(axis),
      dtype: fc.constant(dtype),
      indices:
        shape[axis] === 0
          ? fc.constant<number[]>([])
          : fc.array(fc.integer({ min: 0, max: shape[axis] - 1 }), { maxLength: 6 }),
      values: fc.array(fc.integer({ min: -50, max: 50 }), {
        minLength: sizeOf(shape),
        maxLength: sizeOf(shape),
      }),
    }),
  );

/**
 * A 0/1 condition, a and b, whose shapes broadcast together (the condition and a from a broadcast
 * pair, b of their common shape), with values that include ±Inf and NaN.
 */
const whereCaseArb = broadcastPairArb.chain(({ a, b, out }) => {
  const special = fc.oneof(
    fc.integer({ min: -9, max: 9 }),
    fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN),
  );
  const filled = (shape: number[], value: fc.Arbitrary<number>) =>
    fc.array(value, { minLength: sizeOf(shape), maxLength: sizeOf(shape) });
  return fc.record({
    shapes: fc.constant({ c: a, a: b, b: out, out }),
    cond: filled(a, fc.constantFrom(0, 1)),
    a: filled(b, special),
    b: filled(out, special),
    dtype: fc.constantFrom<DType>("float32", "float64"),
  });
});

const matmulCaseArb = fc.record({
  batch: fc.integer({ min: 0, max: 3 }),
  m: fc.integer({ min: 1, max: 6 }),
  k: fc.integer({ min: 0, max: 6 }),
  n: fc.integer({ min: 1, max: 9 }),
  transA: fc.boolean(),
  transB: fc.boolean(),
  dtype: fc.constantFrom<DType>("float32", "float64"),
  seed: fc.integer(),
});

/** Small integers: every product and sum is exact in float32, so each backend must agree exactly. */
function integers(size: number, seed: number): number[] {
  return Array.from({ length: size }, (_, i) => ((seed + i * 7919) % 9) - 4);
}

/** gather, scatterAdd, where and batchedMatmul on `backend` equal the references (cpu) or cpu (others). */
export function describeIndexingPrimitives(name: string, load: () => Promise<Backend>) {
  describe(`${name}: gather, scatterAdd, where and batchedMatmul`, () => {
    it("gather and scatterAdd along any axis, repeated and empty indices, both dtypes", async () => {
      await fc.assert(
        fc.asyncProperty(gatherCaseArb, async ({ shape, axis, dtype, indices, values }) => {
          const be = await load();
          const idx = Int32Array.from(indices);
          const x = be.fromArray(typedArray(dtype, values));
          const gathered = be.gather(x, shape, axis, idx);
          expect(gathered.dtype).toBe(dtype);
          expect(Array.from(await be.read(gathered))).toEqual(referenceGather(values, shape, axis, idx));
          const gShape = shape.map((d, i) => (i === axis ? idx.length : d));
          const g = referenceGather(values, shape, axis, idx);
          const scattered = be.scatterAdd(be.fromArray(typedArray(dtype, g)), gShape, axis, idx, shape[axis]);
          expect(Array.from(await be.read(scattered))).toEqual(
            referenceScatterAdd(g, gShape, axis, idx, shape[axis]),
          );
        }),
        RUNS,
      );
    });

    it("where selects (an Infinity or NaN on the side not taken never leaks), with broadcasting", async () => {
      await fc.assert(
        fc.asyncProperty(whereCaseArb, async ({ shapes, cond, a, b, dtype }) => {
          const be = await load();
          const out = be.where(
            be.fromArray(typedArray(dtype, cond)),
            shapes.c,
            be.fromArray(typedArray(dtype, a)),
            shapes.a,
            be.fromArray(typedArray(dtype, b)),
            shapes.b,
            shapes.out,
          );
          const expected = Array.from({ length: sizeOf(shapes.out) }, (_, flat) => {
            const at = unravel(flat, shapes.out);
            return cond[broadcastSource(at, shapes.c)] !== 0
              ? a[broadcastSource(at, shapes.a)]
              : b[broadcastSource(at, shapes.b)];
          });
          expect(Array.from(await be.read(out))).toEqual(expected);
        }),
        RUNS,
      );
    });

    it("batchedMatmul: every transpose variant, empty batches and k = 0", async () => {
      await fc.assert(
        fc.asyncProperty(matmulCaseArb, async ({ batch, m, k, n, transA, transB, dtype, seed }) => {
          const be = await load();
          const a = integers(batch * m * k, seed);
          const b = integers(batch * k * n, seed + 1);
          const out = be.matmul(be.fromArray(typedArray(dtype, a)), be.fromArray(typedArray(dtype, b)), {
            batch,
            m,
            k,
            n,
            transA,
            transB,
          });
          // + 0 makes −0 (a lone product −4·0) and +0 (a sum from 0) the same zero.
          expect(Array.from(await be.read(out), (v) => v + 0)).toEqual(
            referenceMatmul(a, b, batch, m, k, n, transA, transB),
          );
        }),
        { numRuns: 30 },
      );
    });

    it("an index out of range is refused with the op, the axis and the shape", async () => {
      const be = await load();
      const x = be.fromArray(new Float32Array(6));
      expect(() => be.gather(x, [2, 3], 1, Int32Array.from([0, 3]))).toThrow(
        "gather: index 3 is out of range for axis 1 of size 3 (shape [2, 3])",
      );
      expect(() => be.scatterAdd(x, [2, 3], 0, Int32Array.from([0, -1]), 4)).toThrow(
        "scatterAdd: index -1 is out of range for axis 0 of size 4 (shape [4, 3])",
      );
    });
  });
}
