/**
 * abs and clamp: forward against plain JS, first and second derivatives against finite differences
 * away from kinks, and PyTorch's behaviour where it matters: clamp lets the gradient through at its
 * bounds and not at NaN, |x|' = 0 at 0.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { abs, clamp } from "../../../src/autograd/ops/piecewise.ts";
import { awayFromZeroArb, RUNS, randomTensorArb, valuesArb } from "../../fixtures/arbitraries.ts";
import { expectGradGradOk, expectGradOk } from "../../fixtures/assertions.ts";
import { f64 } from "../../fixtures/tensors.ts";

const inf = Number.POSITIVE_INFINITY;

describe("abs", () => {
  it("forward |x|, first and second derivatives away from the kink", () => {
    fc.assert(
      fc.property(randomTensorArb(awayFromZeroArb), (x) => {
        expect(Array.from(abs(x).dataSync())).toEqual(Array.from(x.dataSync(), Math.abs));
        expectGradOk(abs, [x]);
        expectGradGradOk((t) => abs(t).mul(t), [x]);
      }),
      RUNS,
    );
  });

  it("gradient 0 at 0 (as PyTorch), ±1 at ±Infinity, NaN at NaN (a NaN is not hidden)", () => {
    const x = f64([0, -0, inf, -inf, Number.NaN], [5]);
    x.requiresGrad = true;
    abs(x).sum().backward();
    expect(Array.from(abs(x).dataSync())).toEqual([0, 0, inf, inf, Number.NaN]);
    expect(Array.from(x.grad!.dataSync(), (v) => v + 0)).toEqual([0, 0, 1, -1, Number.NaN]);
  });
});

describe("clamp", () => {
  it("keeps −0 at a bound of 0, and clamps to the bound's own sign", () => {
    const x = f64([-0, 0, -1, 2], [4]);
    expect(Array.from(clamp(x, 0, 1).dataSync()).map((v) => Object.is(v, -0))).toEqual([
      true,
      false,
      false,
      false,
    ]);
    expect(Array.from(clamp(x, -0, 1).dataSync())).toEqual([-0, 0, -0, 1]);
  });

  it("forward: x itself unless below lo or above hi, either bound optional", () => {
    // Not Math.min(Math.max(x, lo), hi): Math.max(−0, 0) is +0, while clamp keeps x where it is in
    // range, so −0 stays −0 at a bound of 0 (as torch.clamp does); NaN stays NaN.
    const reference = (e: number, lo = Number.NEGATIVE_INFINITY, hi = Number.POSITIVE_INFINITY) =>
      e < lo ? lo : e > hi ? hi : e;
    fc.assert(
      fc.property(randomTensorArb(valuesArb), fc.double({ min: -1, max: 0, noNaN: true }), (x, lo) => {
        const hi = lo + 1;
        const v = Array.from(x.dataSync());
        expect(Array.from(clamp(x, lo, hi).dataSync())).toEqual(v.map((e) => reference(e, lo, hi)));
        expect(Array.from(clamp(x, lo).dataSync())).toEqual(v.map((e) => reference(e, lo)));
        expect(Array.from(clamp(x, undefined, hi).dataSync())).toEqual(
          v.map((e) => reference(e, undefined, hi)),
        );
      }),
      RUNS,
    );
  });

  it("first and second derivatives away from the bounds", () => {
    // Values on a grid of 1/4 + 1/8, bounds on the grid of 1/4: never within a finite-difference step.
    const gridArb = (n: number) =>
      fc.array(
        fc.integer({ min: -8, max: 8 }).map((k) => k / 4 + 1 / 8),
        { minLength: n, maxLength: n },
      );
    fc.assert(
      fc.property(randomTensorArb(gridArb), (x) => {
        expectGradOk((t) => clamp(t, -0.5, 1), [x]);
        expectGradGradOk((t) => clamp(t, -0.5, 1).mul(t), [x]);
      }),
      { numRuns: 20 },
    );
  });

  it("at the bounds the gradient passes (as PyTorch); NaN stays NaN with gradient 0 (as PyTorch)", () => {
    const x = f64([-1, 0, 1, 2, Number.NaN, -inf, inf], [7]);
    x.requiresGrad = true;
    const y = clamp(x, 0, 1);
    expect(Array.from(y.dataSync())).toEqual([0, 0, 1, 1, Number.NaN, 0, 1]);
    y.sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([0, 1, 1, 0, 0, 0, 0]);
  });

  it("refuses no bound, a NaN bound, or min > max", () => {
    const x = f64([1], [1]);
    expect(() => clamp(x)).toThrow("clamp: give a min, a max or both");
    expect(() => clamp(x, Number.NaN)).toThrow("clamp: a bound is NaN (min NaN, max undefined)");
    expect(() => clamp(x, 2, 1)).toThrow("clamp: min 2 must not be greater than max 1");
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
