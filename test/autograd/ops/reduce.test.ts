/**
 * Reductions at their edges: the functions' own defaults (keepdims off), axes normalised to a sorted
 * list, tied maxima sharing the gradient, logsumexp of float64 values beyond float32's range,
 * numerically delicate inputs, float32 sums against float64, and axes refused by name. Expected
 * values are worked out here in float64.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../../src/autograd/create.ts";
import { logsumexp, max, mean, sum } from "../../../src/autograd/ops/reduce.ts";
import { Generator } from "../../../src/autograd/random.ts";
import { expectClose } from "../../fixtures/assertions.ts";
import { f64 } from "../../fixtures/tensors.ts";

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

  it("reduce unsorted axes as sorted ones", () => {
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

  it("max: tied maxima share the gradient equally", () => {
    const x = f64([1, 3, 3, 2, 3, -1], [6]);
    x.requiresGrad = true;
    x.max().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 1 / 3, 1 / 3, 0, 1 / 3, 0]);

    const m = f64([5, 5, 1, 0, 2, 2, 7, 7], [2, 2, 2]);
    m.requiresGrad = true;
    // Over axes 0 and 2 the slices are {5,5,2,2} → 5 twice, and {1,0,7,7} → 7 twice.
    m.max([0, -1]).backward(f64([10, 100], [2]));
    expect(Array.from(m.grad!.dataSync())).toEqual([5, 5, 0, 0, 0, 0, 50, 50]);
  });
});

describe("Tensor.mean", () => {
  it("drops the reduced axes unless asked to keep them, like sum and max", () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(x.mean(1).shape).toEqual([2]);
    expect(x.mean(1).toArray()).toEqual([2, 5]);
    expect(x.mean(1, true).shape).toEqual([2, 1]);
    expect(x.mean().shape).toEqual([]);
  });
});

const m23 = () => zeros([2, 3], { requiresGrad: true });

describe("shape errors name the op and the shapes", () => {
  it("axes out of range in reductions, including negative ones", () => {
    expect(() => m23().sum(2)).toThrow(/^sum: axis 2 is out of range for a tensor of shape \[2, 3\]/);
    expect(() => m23().mean([-3])).toThrow(/^mean: axis -3 is out of range .*\[2, 3\]/);
    expect(() => m23().max([0, 5])).toThrow(/^max: axis 5 .*\[2, 3\]/);
    expect(() => m23().logsumexp(-3)).toThrow(/^logsumexp: axis -3 .*\[2, 3\]/);
  });
});

describe("dtype and shape checks name the op", () => {
  it("reductions: a repeated axis (also written once negative), and max over an empty axis", () => {
    expect(() => sum(zeros([2, 3]), [0, 0])).toThrow("sum: repeated axis in [0, 0]");
    expect(() => zeros([2, 3]).mean([1, -1])).toThrow("mean: repeated axis in [1, -1]");
    expect(() => max(zeros([2, 0]), 1)).toThrow(
      "max: cannot reduce an empty axis of a tensor of shape [2, 0]",
    );
    expect(() => zeros([0]).max()).toThrow("max: cannot reduce an empty axis of a tensor of shape [0]");
    // Reducing a non-empty axis of a tensor that is empty elsewhere is fine: nothing to reduce.
    expect(max(zeros([2, 0]), 0).shape).toEqual([0]);
  });
});

const EPS_F32 = 2 ** -23;

/** Results below float32's smallest normal number lose relative precision by design. */

describe("numerically delicate inputs stay finite where the math is", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`logsumexp, sigmoid and softplus at extreme values, ${dtype}`, () => {
      const big = tensor([1000, 1000], { dtype, requiresGrad: true });
      const lse = big.logsumexp(0);
      // 1000 + ln 2 with exp(1000) = Infinity in either dtype: the max shift is what makes this finite.
      expect(lse.item()).toBeCloseTo(1000 + Math.LN2, dtype === "float32" ? 3 : 10);
      lse.backward();
      // The gradient exp(x − lse) subtracts two numbers near 1000, each rounded to the dtype: an
      // absolute error of about 1000·eps, which exp turns into the same relative error.
      const eps = dtype === "float32" ? EPS_F32 : 2 ** -52;
      expectClose(big.grad!.dataSync(), [0.5, 0.5], { atol: 2 * 1000 * eps });

      const rows = tensor(
        [
          [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
          [Number.NEGATIVE_INFINITY, 0],
          [Number.POSITIVE_INFINITY, 0],
        ],
        { dtype, requiresGrad: true },
      );
      expect(Array.from(rows.logsumexp(1).dataSync())).toEqual([
        Number.NEGATIVE_INFINITY,
        0,
        Number.POSITIVE_INFINITY,
      ]);
      const finiteRows = rows.sliceRows(1, 2);
      finiteRows.logsumexp(1).sum().backward();
      expect(Array.from(rows.grad!.dataSync())).toEqual([0, 0, 0, 1, 0, 0]);

      const x = tensor([-800, 800], { dtype, requiresGrad: true });
      expect(Array.from(x.sigmoid().dataSync())).toEqual([0, 1]);
      const sp = x.softplus();
      expect(Array.from(sp.dataSync())).toEqual([0, 800]);
      sp.sum().backward();
      expect(Array.from(x.grad!.dataSync())).toEqual([0, 1]);
    });
  }
});

const TINY = 2 ** -126;

describe("float32 ops against their float64 definitions", () => {
  it("a sum of 100,000 float32 numbers (the reduction a loss does over a dataset batch)", () => {
    // Within n·eps_f32·Σ|xᵢ| over the reduced slice plus a final rounding: all xᵢ ≥ 0 here, so Σ|xᵢ| is the sum.
    const g = new Generator(7);
    const values = Array.from({ length: 100_000 }, () => Math.fround(g.uniform()));
    const x32 = tensor(Float32Array.from(values), [100, 1000]);
    const x64 = tensor(Float64Array.from(values), [100, 1000]);
    for (const axes of [[0], [1], [0, 1]]) {
      const n = axes.reduce((s, a) => s * x64.shape[a], 1);
      const ref = x64.sum(axes).dataSync();
      expectClose(x32.sum(axes).dataSync(), ref, (i) => n * EPS_F32 * ref[i] + 2 ** -24 * ref[i] + TINY);
    }
  });

  it("sums and means of float32 numbers against a float64 sum, within n·2⁻²³·Σ|x|", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 500 }),
        (values) => {
          const x = tensor(Float32Array.from(values), [values.length]);
          const exact = values.reduce((s, v) => s + v, 0);
          const bound = values.length * 2 ** -23 * values.reduce((s, v) => s + Math.abs(v), 0) + TINY;
          expect(Math.abs(x.sum().item() - exact)).toBeLessThanOrEqual(bound);
          expect(Math.abs(x.mean().item() - exact / values.length)).toBeLessThanOrEqual(
            bound / values.length,
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});
