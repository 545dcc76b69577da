/**
 * reshape, transpose, broadcastTo, gatherRows and sliceRows: bad targets, permutations and rows are
 * refused naming the op and the shapes; a reshape or broadcast to the shape a tensor has is the
 * tensor itself.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../../src/autograd/create.ts";
import { sumToShape } from "../../../src/autograd/ops/shape.ts";
import { RUNS, randomTensorArb } from "../../fixtures/arbitraries.ts";
import { expectGradOk } from "../../fixtures/assertions.ts";
import { f64 } from "../../fixtures/tensors.ts";

const m23 = () => zeros([2, 3], { requiresGrad: true });

describe("shape errors name the op and the shapes", () => {
  it("reshape to a shape with another number of elements, or with two -1s", () => {
    expect(() => m23().reshape([4, 2])).toThrow(
      /^reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/,
    );
    expect(() => m23().reshape([4, -1])).toThrow(/^reshape: cannot reshape \[2, 3\].*\[4, -1\]/);
    expect(() => m23().reshape([-1, -1])).toThrow(/^reshape: invalid target shape \[-1, -1\]/);
  });

  it("transpose with something that is not a permutation", () => {
    expect(() => m23().transpose([0, 0])).toThrow(/^transpose: \[0, 0\] is not a permutation .*\[2, 3\]/);
  });

  it("broadcastTo a shape the tensor does not broadcast to", () => {
    expect(() => m23().broadcastTo([3])).toThrow(/^broadcastTo: cannot broadcast \[2, 3\] to \[3\]/);
    expect(() => m23().broadcastTo([4, 3])).toThrow(/^broadcastTo: cannot broadcast \[2, 3\] to \[4, 3\]/);
  });

  it("gatherRows and sliceRows out of range", () => {
    expect(() => m23().gatherRows([0, 2])).toThrow(
      /^gatherRows: index 2 is out of range for 2 rows \(shape \[2, 3\]\)/,
    );
    expect(() => m23().gatherRows([-1])).toThrow(/^gatherRows: index -1 .*\[2, 3\]/);
    expect(() => m23().sliceRows(1, 3)).toThrow(
      /^sliceRows: rows 1\.\.3 are out of range for shape \[2, 3\]/,
    );
    // Fractional rows are no rows at all, rather than silently truncated ones.
    expect(() => m23().gatherRows([0.5])).toThrow(/^gatherRows: index 0\.5 is out of range .*\[2, 3\]/);
    expect(() => m23().sliceRows(0.5, 2)).toThrow(/^sliceRows: rows 0\.5\.\.2 .*\[2, 3\]/);
  });
});

describe("dtype and shape checks name the op", () => {
  it("reshape: negative or fractional dimensions, even when their product is the size", () => {
    expect(() => zeros([2, 3]).reshape([-2, -3])).toThrow("reshape: invalid target shape [-2, -3]");
    expect(() => zeros([2, 3]).reshape([1.5, 4])).toThrow("reshape: invalid target shape [1.5, 4]");
    expect(() => zeros([2, 3]).reshape([-1, -6])).toThrow("reshape: invalid target shape [-1, -6]");
    expect(zeros([2, 3]).reshape([3, -1]).shape).toEqual([3, 2]);
  });

  it("transpose: a permutation of too many or too few axes", () => {
    expect(() => zeros([2, 3]).transpose([1, 0, 2])).toThrow(
      "transpose: [1, 0, 2] is not a permutation of the axes of [2, 3]",
    );
    expect(() => zeros([2, 3]).transpose([0])).toThrow(
      "transpose: [0] is not a permutation of the axes of [2, 3]",
    );
  });

  it("gatherRows of a scalar, and sliceRows with a negative start or a start past the end", () => {
    expect(() => tensor(1).gatherRows([0])).toThrow(
      "gatherRows: needs a tensor with at least one dimension, got a scalar",
    );
    expect(() => zeros([3, 2]).sliceRows(-1, 1)).toThrow(
      "sliceRows: rows -1..1 are out of range for shape [3, 2]",
    );
    expect(() => zeros([3, 2]).sliceRows(2, 1)).toThrow(
      "sliceRows: rows 2..1 are out of range for shape [3, 2]",
    );
    expect(zeros([3, 2]).sliceRows(2, 2).shape).toEqual([0, 2]);
  });
});

/** A 2×3 float32 leaf that requires grad. */
const x = () => tensor(Float32Array.of(1, -2, 3, -4, 5, -6), [2, 3], { requiresGrad: true });

describe("ops that would change nothing", () => {
  it("reshape, broadcastTo and sumToShape to the shape a tensor has give the tensor itself: no copy, no graph node", () => {
    const t = x();
    expect(t.reshape([2, 3])).toBe(t);
    expect(t.reshape([-1, 3])).toBe(t);
    expect(t.broadcastTo([2, 3])).toBe(t);
    expect(sumToShape(t, [2, 3])).toBe(t);
  });
});

describe("transpose", () => {
  it("transpose by a random permutation", () => {
    // Cyclic permutations are their own inverse's opposite: the backward must apply the inverse.
    for (const perm of [
      [1, 2, 0],
      [2, 0, 1],
    ]) {
      const x = f64(
        Array.from({ length: 24 }, (_, i) => Math.sin(i)),
        [2, 3, 4],
      );
      expectGradOk((t) => t.transpose(perm).mul(t.transpose(perm)), [x]);
    }
    const arb = randomTensorArb().chain((x) => {
      const axes = x.shape.map((_, i) => i);
      return fc.tuple(
        fc.constant(x),
        fc.shuffledSubarray(axes, { minLength: axes.length, maxLength: axes.length }),
      );
    });
    fc.assert(
      fc.property(arb, ([x, perm]) => {
        expect(x.transpose(perm).shape).toEqual(perm.map((p) => x.shape[p]));
        expectGradOk((t) => t.transpose(perm).mul(t.transpose(perm)), [x]);
      }),
      RUNS,
    );
  });
});
