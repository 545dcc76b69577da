/**
 * batchedMatmul: forward against a plain-JS triple loop per batch element, with broadcast batch
 * dimensions and every transpose variant; first and second derivatives against finite differences;
 * one shared right-hand matrix is a single 2-D matmul; operands it cannot multiply are named.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../../src/autograd/create.ts";
import { batchedMatmul } from "../../../src/autograd/ops/batched-matmul.ts";
import { sizeOf } from "../../../src/kernels/shape.ts";
import { broadcastPairArb, tensorArb } from "../../fixtures/arbitraries.ts";
import { expectClose, expectGradGradOk, expectGradOk } from "../../fixtures/assertions.ts";
import { f64 } from "../../fixtures/tensors.ts";
import { plainOf, referenceMatmul } from "../op-table.ts";

/** Broadcast batch shapes, matrix sizes, transpose flags, and the operands stored accordingly. */
const caseArb = fc
  .record({
    batch: broadcastPairArb,
    m: fc.integer({ min: 1, max: 3 }),
    k: fc.integer({ min: 1, max: 3 }),
    n: fc.integer({ min: 1, max: 3 }),
    transA: fc.boolean(),
    transB: fc.boolean(),
    // Half the time B is one matrix shared by every batch (the x·W of a layer).
    sharedB: fc.boolean(),
  })
  .chain((c) => {
    const aShape = [...c.batch.a, ...(c.transA ? [c.k, c.m] : [c.m, c.k])];
    const bShape = [...(c.sharedB ? [] : c.batch.b), ...(c.transB ? [c.n, c.k] : [c.k, c.n])];
    return fc.tuple(fc.constant(c), tensorArb(aShape), tensorArb(bShape));
  });

describe("batchedMatmul", () => {
  it("forward: one matmul per (broadcast) batch element, every transpose variant", () => {
    fc.assert(
      fc.property(caseArb, ([c, a, b]) => {
        const out = batchedMatmul(a, b, { transA: c.transA, transB: c.transB });
        const expected = referenceMatmul(plainOf(a), plainOf(b), c.transA, c.transB);
        expect(out.shape).toEqual(expected.shape);
        expectClose(out.dataSync(), expected.values, { atol: 1e-12, rtol: 1e-12 });
      }),
      { numRuns: 40 },
    );
  });

  it("first and second derivatives to both operands, summed over broadcast batch dimensions", () => {
    fc.assert(
      fc.property(caseArb, ([c, a, b]) => {
        const options = { transA: c.transA, transB: c.transB };
        expectGradOk((x, y) => batchedMatmul(x, y, options), [a, b]);
        expectGradGradOk((x, y) => batchedMatmul(x, y, options), [a, b]);
      }),
      { numRuns: 20 },
    );
  });

  it("refuses operands below 2-D, inner dimensions that differ, batches that do not broadcast", () => {
    const m = (shape: number[]) => f64(new Array(sizeOf(shape)).fill(1), shape);
    expect(() => batchedMatmul(m([3]), m([3, 2]))).toThrow(
      "batchedMatmul([3], [3, 2]): both operands need at least 2 dimensions (the last two hold the matrices)",
    );
    expect(() => batchedMatmul(m([2, 2, 3]), m([2, 2, 3]))).toThrow(
      "batchedMatmul([2, 2, 3], [2, 2, 3]): inner dimensions differ (3 vs 2)",
    );
    expect(() => batchedMatmul(m([2, 2, 3]), m([3, 3, 1]))).toThrow(
      "batchedMatmul([2, 2, 3], [3, 3, 1]): batch dimensions [2] and [3] cannot be broadcast together",
    );
    expect(() => batchedMatmul(m([2, 3, 2]), m([2, 3, 1]), { transA: true }).shape).not.toThrow();
  });
});

describe("dtype and shape checks name the op", () => {
  it("batchedMatmul: dtypes, ranks, and the transposes in its name", () => {
    expect(() => batchedMatmul(zeros([2, 2, 2]), zeros([2, 2, 2], { dtype: "float64" }))).toThrow(
      "batchedMatmul([2, 2, 2], [2, 2, 2]): dtypes differ (float32 and float64)",
    );
    expect(() => batchedMatmul(zeros([2, 3, 4]), zeros([4]))).toThrow(
      "batchedMatmul([2, 3, 4], [4]): both operands need at least 2 dimensions (the last two hold the matrices)",
    );
    expect(() => batchedMatmul(zeros([2, 3, 4]), zeros([2, 3, 4]), { transA: true, transB: true })).toThrow(
      "batchedMatmul([2, 3, 4]ᵀ, [2, 3, 4]ᵀ): inner dimensions differ (3 vs 4)",
    );
  });
});

describe("each op's output carries its name", () => {
  it("batchedMatmul with one shared right-hand matrix is a single 2-D matmul over all rows", () => {
    const a = tensor(
      Float32Array.from({ length: 12 }, (_, i) => i),
      [2, 2, 3],
      { requiresGrad: true },
    );
    const b = tensor(
      Float32Array.from({ length: 6 }, (_, i) => i - 2),
      [3, 2],
      { requiresGrad: true },
    );
    const out = batchedMatmul(a, b);
    expect(out.op).toBe("reshape");
    expect(out.inputs[0].op).toBe("matmul");
    expect(out.inputs[0].shape).toEqual([4, 2]);
    // The same values as each batch's own product.
    const expected = [0, 1].map((i) =>
      a
        .sliceRows(i, i + 1)
        .reshape([2, 3])
        .matmul(b)
        .toArray(),
    );
    expect(out.toArray()).toEqual(expected);
  });
});
