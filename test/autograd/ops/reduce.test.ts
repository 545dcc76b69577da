/**
 * Reductions at their edges: the functions' own defaults (keepdims off), axes normalised to a sorted
 * list, logsumexp of float64 values beyond float32's range and its shape without keepdims, softmax
 * over an empty axis, and clamp to a single point. Expected values are worked out here in float64.
 */
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../../src/autograd/create.ts";
import { clamp } from "../../../src/autograd/ops/piecewise.ts";
import { logsumexp, max, mean, normalizeAxes, sum } from "../../../src/autograd/ops/reduce.ts";
import { logSoftmax, softmax } from "../../../src/autograd/ops/softmax.ts";
import { f64 } from "../helpers.ts";

const m = () =>
  tensor([
    [1, 5, 2],
    [7, 3, 4],
  ]);

describe("reductions", () => {
  it("called as functions, drop the reduced axes unless asked to keep them", () => {
    expect(sum(m(), 1).toArray()).toEqual([8, 14]);
    expect(mean(m(), 0).toArray()).toEqual([4, 4, 3]);
    expect(max(m(), 1).toArray()).toEqual([5, 7]);
    expect(sum(m()).shape).toEqual([]);
    const lse = logsumexp(f64([0, Math.log(3), 1, 1], [2, 2]), 1);
    expect(lse.shape).toEqual([2]);
    const [first, second] = lse.dataSync();
    expect(first).toBeCloseTo(Math.log(4), 14);
    expect(second).toBeCloseTo(1 + Math.log(2), 14);
    expect(logsumexp(f64([0, 0], [1, 2]), 1, true).shape).toEqual([1, 1]);
    expect(m().logsumexp(0).shape).toEqual([3]);
  });

  it("normalise their axes to a sorted list of non-negative axes", () => {
    expect(normalizeAxes("sum", [2, 3, 4], [2, -3])).toEqual([0, 2]);
    expect(normalizeAxes("sum", [2, 3, 4], [-1, 1, 0])).toEqual([0, 1, 2]);
    expect(normalizeAxes("sum", [2, 3, 4], -2)).toEqual([1]);
    expect(normalizeAxes("sum", [2, 3, 4], undefined)).toEqual([0, 1, 2]);
    // Unsorted axes reduce the same as sorted ones.
    expect(sum(m(), [1, 0]).item()).toBe(22);
  });

  it("logsumexp of float64 values far beyond float32's range is still right", () => {
    // log(e^a + e^a) = a + log 2, for a = 1e300 as for a = 1e3.
    for (const a of [1e3, 1e300, -1e300]) {
      const out = logsumexp(f64([a, a], [2]), 0).item();
      expect(out).toBe(a + Math.log(2));
    }
    // In float32 the largest finite shift is float32's, and a row of −Infinity stays −Infinity.
    expect(logsumexp(tensor([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]), 0).item()).toBe(
      Number.NEGATIVE_INFINITY,
    );
    expect(logsumexp(tensor([3e38, 3e38]), 0).item()).toBeCloseTo(3e38, -32);
  });
});

describe("softmax over an empty axis", () => {
  it("gives an empty result of the same shape, for softmax and logSoftmax", () => {
    expect(softmax(zeros([2, 0]), 1).shape).toEqual([2, 0]);
    expect(logSoftmax(zeros([2, 0]), -1).shape).toEqual([2, 0]);
    // Empty along another axis: rows of nothing are still normalised along the non-empty one.
    expect(softmax(zeros([0, 3]), 1).shape).toEqual([0, 3]);
  });
});

describe("clamp to a single point", () => {
  it("min = max is allowed and gives that value everywhere; the gradient passes only at that value", () => {
    const x = f64([-1, 1, 2], [3]);
    x.requiresGrad = true;
    const y = clamp(x, 1, 1);
    expect(y.toArray()).toEqual([1, 1, 1]);
    y.sum().backward();
    expect(x.grad?.toArray()).toEqual([0, 1, 0]);
    expect(() => clamp(x, 1.5, 1)).toThrow("clamp: min 1.5 must not be greater than max 1");
  });
});
