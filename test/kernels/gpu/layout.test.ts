/**
 * The shape bookkeeping behind the GPU kernels (src/kernels/gpu/layout.ts): squeezing strided
 * accesses down to the three indices a gpu.js thread has, and seeing reductions as
 * [outer, reduced, inner].
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { accessOf, reduceAccess } from "../../../src/kernels/gpu/layout.ts";
import { stridesOf } from "../../../src/kernels/shape.ts";

describe("layout: collapsing strided accesses to at most three indices", () => {
  /** Every flat offset an access reads, in output order. */
  function offsets(shape: readonly number[], strides: readonly number[]): number[] {
    const out: number[] = [];
    const walk = (d: number, at: number) => {
      if (d === shape.length) {
        out.push(at);
        return;
      }
      for (let i = 0; i < shape[d]; i++) walk(d + 1, at + i * strides[d]);
    };
    walk(0, 0);
    return out;
  }

  it("reads the same offsets, in the same order, with fewer dimensions", () => {
    const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 5 });
    fc.assert(
      fc.property(shapeArb, fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), (shape, broadcast) => {
        // One input read straight through, one with some axes broadcast (stride 0).
        const own = stridesOf(shape);
        const other = own.map((s, d) => (broadcast[d] ? 0 : s));
        const access = accessOf(shape, [own, other]);
        expect(access.shape.length).toBeLessThanOrEqual(Math.max(1, shape.length));
        expect(offsets(access.shape, access.strides[0])).toEqual(offsets(shape, own));
        expect(offsets(access.shape, access.strides[1])).toEqual(offsets(shape, other));
      }),
      { numRuns: 200 },
    );
  });

  it("merges a contiguous tensor into one dimension and keeps a bias broadcast as two", () => {
    expect(accessOf([2, 3, 4], [stridesOf([2, 3, 4])])).toEqual({ shape: [24], strides: [[1]] });
    expect(
      accessOf(
        [128, 784],
        [
          [784, 1],
          [0, 1],
        ],
      ),
    ).toEqual({
      shape: [128, 784],
      strides: [
        [784, 1],
        [0, 1],
      ],
    });
    expect(accessOf([], [[]])).toEqual({ shape: [1], strides: [[0]] });
  });

  it("sees a reduction over one run of axes as [outer, reduced, inner], and refuses a split one", () => {
    expect(reduceAccess([128, 784], [0])).toEqual({ outer: 1, reduced: 128, inner: 784 });
    expect(reduceAccess([128, 784], [0, 1])).toEqual({ outer: 1, reduced: 128 * 784, inner: 1 });
    expect(reduceAccess([2, 3, 4, 5], [1, 2])).toEqual({ outer: 2, reduced: 12, inner: 5 });
    // A size-1 axis in between does not split the run.
    expect(reduceAccess([2, 3, 1, 4], [1, 3])).toEqual({ outer: 2, reduced: 12, inner: 1 });
    expect(reduceAccess([2, 3, 4], [0, 2])).toBeNull();
  });
});
