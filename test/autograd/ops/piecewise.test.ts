/**
 * where, abs, clamp and the comparison masks: forward against plain JS, first and second
 * derivatives against finite differences away from kinks, and PyTorch's behaviour where it
 * matters: where selects (an Infinity on the side not taken stays out of values and gradients),
 * clamp lets the gradient through at its bounds and not at NaN, |x|' = 0 at 0.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { equal, greater, greaterEqual, less, lessEqual } from "../../../src/autograd/ops/constants.ts";
import { abs, clamp } from "../../../src/autograd/ops/piecewise.ts";
import { where } from "../../../src/autograd/ops/where.ts";
import { sizeOf } from "../../../src/kernels/shape.ts";
import {
  awayFromZeroArb,
  broadcastPairArb,
  expectGradGradOk,
  expectGradOk,
  f64,
  RUNS,
  randomTensorArb,
  shapeArb,
  tensorArb,
  valuesArb,
} from "../helpers.ts";

const inf = Number.POSITIVE_INFINITY;

describe("comparison masks", () => {
  it("match JavaScript's comparisons elementwise, with broadcasting and special values", () => {
    const special = fc.oneof(fc.integer({ min: -2, max: 2 }), fc.constantFrom(inf, -inf, Number.NaN, -0));
    const arb = shapeArb().chain((out) =>
      fc.tuple(
        fc.array(special, { minLength: sizeOf(out), maxLength: sizeOf(out) }),
        fc.array(special, { minLength: sizeOf(out), maxLength: sizeOf(out) }),
        fc.constant(out),
      ),
    );
    fc.assert(
      fc.property(arb, ([av, bv, out]) => {
        const a = f64(av, out);
        const b = f64(bv, out);
        const cases: [typeof greater, (x: number, y: number) => boolean][] = [
          [greater, (x, y) => x > y],
          [less, (x, y) => x < y],
          [equal, (x, y) => x === y],
          [greaterEqual, (x, y) => x >= y],
          [lessEqual, (x, y) => x <= y],
        ];
        for (const [mask, reference] of cases) {
          expect(Array.from(mask(a, b).dataSync())).toEqual(av.map((x, i) => (reference(x, bv[i]) ? 1 : 0)));
        }
      }),
      RUNS,
    );
    // Broadcasting is the binary kernels' (tested with them); here once, to see it is used.
    expect(greater(f64([1, 2, 3], [3]), f64([2], [1])).toArray()).toEqual([0, 0, 1]);
  });

  it("are constants of the graph: never tracked, even from a tensor that requires grad", () => {
    const x = f64([1, -1], [2]);
    x.requiresGrad = true;
    expect(x.greater(0).requiresGrad).toBe(false);
    expect(x.lessEqual(0).toArray()).toEqual([0, 1]);
  });
});

describe("where", () => {
  /** A 0/1 condition, a and b, all three broadcast together. */
  const caseArb = broadcastPairArb.chain(({ a, b, out }) =>
    fc.tuple(
      fc
        .array(fc.constantFrom(0, 1), { minLength: sizeOf(out), maxLength: sizeOf(out) })
        .map((c) => f64(c, out)),
      tensorArb(a),
      tensorArb(b),
    ),
  );

  it("forward: a where the condition holds, b elsewhere", () => {
    fc.assert(
      fc.property(caseArb, ([c, a, b]) => {
        const out = where(c, a, b);
        const aFull = a.broadcastTo(out.shape).dataSync();
        const bFull = b.broadcastTo(out.shape).dataSync();
        expect(Array.from(out.dataSync())).toEqual(
          Array.from(c.dataSync(), (v, i) => (v ? aFull[i] : bFull[i])),
        );
      }),
      RUNS,
    );
  });

  it("first and second derivatives to both sides, summed back over broadcast dimensions", () => {
    fc.assert(
      fc.property(caseArb, ([c, a, b]) => {
        expectGradOk((x, y) => where(c, x, y), [a, b]);
        expectGradGradOk((x, y) => where(c, x.mul(x), y.exp()), [a, b]);
      }),
      { numRuns: 20 },
    );
  });

  it("is a select, not arithmetic: Infinity and NaN on the side not taken reach neither value nor gradient", () => {
    const c = f64([1, 0, 1], [3]);
    const a = f64([1, inf, Number.NaN], [3]);
    const b = f64([-inf, 2, 3], [3]);
    a.requiresGrad = true;
    b.requiresGrad = true;
    const out = where(c, a, b);
    expect(Array.from(out.dataSync())).toEqual([1, 2, Number.NaN]);
    out
      .mul(f64([10, 20, 30], [3]))
      .sum()
      .backward();
    expect(Array.from(a.grad!.dataSync())).toEqual([10, 0, 30]);
    expect(Array.from(b.grad!.dataSync())).toEqual([0, 20, 0]);
  });

  it("takes numbers for either side, and refuses shapes that do not broadcast", () => {
    const c = f64([1, 0], [2]);
    expect(where(c, 5, f64([1, 2], [2])).toArray()).toEqual([5, 2]);
    expect(where(c, f64([1, 2], [2]), -1).toArray()).toEqual([1, -1]);
    expect(() => where(f64([1, 0, 1], [3]), f64([1, 2], [2]), 0)).toThrow(
      "where: condition [3] and values [2], [] cannot be broadcast together",
    );
  });
});

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
