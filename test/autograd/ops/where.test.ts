/**
 * where: forward against plain JS, first and second derivatives to both sides, a select and not
 * arithmetic (an Infinity on the side not taken stays out of values and gradients), numbers on
 * either side, and values of two dtypes refused by name.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../../src/autograd/create.ts";
import { where } from "../../../src/autograd/ops/where.ts";
import { sizeOf } from "../../../src/kernels/shape.ts";
import { broadcastPairArb, RUNS, tensorArb } from "../../fixtures/arbitraries.ts";
import { expectGradGradOk, expectGradOk } from "../../fixtures/assertions.ts";
import { f64 } from "../../fixtures/tensors.ts";

describe("dtype and shape checks name the op", () => {
  it("where: values of two dtypes", () => {
    expect(() => where(tensor([1]), zeros([1]), zeros([1], { dtype: "float64" }))).toThrow(
      /^where: dtypes differ: float32 \[1\] and float64 \[1\]/,
    );
  });
});

const inf = Number.POSITIVE_INFINITY;

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
