/**
 * softmax and logSoftmax along an axis: forward against a plain-JS reference (float64, per row),
 * first and second derivatives against finite differences over random shapes and axes, and
 * PyTorch's behaviour at the edges: huge logits stay finite, −Infinity gets probability 0, +Infinity
 * or an all −Infinity row gives NaN, an empty axis gives an empty result.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { zeros } from "../../../src/autograd/create.ts";
import { logSoftmax, softmax } from "../../../src/autograd/ops/softmax.ts";
import { stridesOf } from "../../../src/kernels/shape.ts";
import { RUNS, shapeArb, tensorArb } from "../../fixtures/arbitraries.ts";
import { expectClose, expectGradGradOk, expectGradOk } from "../../fixtures/assertions.ts";
import { f64 } from "../../fixtures/tensors.ts";

/** A random tensor of rank 1..3 and an axis of it, negative half the time. */
const caseArb = shapeArb(1, 3).chain((shape) =>
  fc.tuple(
    tensorArb(shape, (n) =>
      fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: n, maxLength: n }),
    ),
    fc.integer({ min: -shape.length, max: shape.length - 1 }),
  ),
);

/** log softmax by the definition, one row (all elements along `axis`) at a time, in plain JS. */
function referenceLogSoftmax(values: ArrayLike<number>, shape: readonly number[], axis: number): number[] {
  const ax = axis < 0 ? axis + shape.length : axis;
  const stride = stridesOf(shape)[ax];
  const out = new Array<number>(values.length);
  for (let start = 0; start < values.length; start++) {
    if (Math.floor(start / stride) % shape[ax] !== 0) continue; // the first element of its row
    const row = Array.from({ length: shape[ax] }, (_, i) => start + i * stride);
    const lse = Math.log(row.reduce((s, j) => s + Math.exp(values[j]), 0));
    for (const j of row) out[j] = values[j] - lse;
  }
  return out;
}

describe("softmax and logSoftmax", () => {
  it("forward: logSoftmax is x − log Σ eˣ, softmax its exponential, rows summing to 1", () => {
    fc.assert(
      fc.property(caseArb, ([x, axis]) => {
        const expected = referenceLogSoftmax(x.dataSync(), x.shape, axis);
        expectClose(logSoftmax(x, axis).dataSync(), expected, { atol: 1e-12, rtol: 1e-12 });
        expectClose(
          softmax(x, axis).dataSync(),
          expected.map((v) => Math.exp(v)),
          { atol: 1e-12, rtol: 1e-12 },
        );
      }),
      RUNS,
    );
  });

  it("first derivatives match finite differences", () => {
    fc.assert(
      fc.property(caseArb, ([x, axis]) => {
        expectGradOk((t) => softmax(t, axis), [x]);
        expectGradOk((t) => logSoftmax(t, axis), [x]);
      }),
      RUNS,
    );
  });

  it("second derivatives match finite differences of the first", () => {
    fc.assert(
      fc.property(caseArb, ([x, axis]) => {
        expectGradGradOk((t) => softmax(t, axis), [x]);
        expectGradGradOk((t) => logSoftmax(t, axis), [x]);
      }),
      { numRuns: 15 },
    );
  });

  it("logits of 1e4 do not overflow: the max shift keeps every exp ≤ 1", () => {
    const x = f64([1e4, 1e4 - 1, -1e4], [3]);
    expectClose(softmax(x).dataSync(), [1 / (1 + Math.exp(-1)), Math.exp(-1) / (1 + Math.exp(-1)), 0], {
      atol: 1e-15,
      rtol: 1e-12,
    });
    expect(logSoftmax(x).dataSync()[2]).toBeCloseTo(-2e4 - Math.log(1 + Math.exp(-1)), 6);
  });

  it("−Infinity gets probability 0 (and log-probability −Infinity) with finite gradients, as in PyTorch", () => {
    const x = f64([Number.NEGATIVE_INFINITY, 0, 0], [3]);
    x.requiresGrad = true;
    expect(Array.from(softmax(x).dataSync())).toEqual([0, 0.5, 0.5]);
    expect(Array.from(logSoftmax(x).dataSync())).toEqual([Number.NEGATIVE_INFINITY, -Math.LN2, -Math.LN2]);
    softmax(x)
      .mul(f64([1, 2, 3], [3]))
      .sum()
      .backward();
    expectClose(x.grad!.dataSync(), [0, -0.25, 0.25], { atol: 1e-15 });
  });

  it("NaN in a row, +Infinity in a row, or a row of only −Infinity gives NaN for that row only", () => {
    const inf = Number.POSITIVE_INFINITY;
    const x = f64([Number.NaN, 1, inf, 1, -inf, -inf, 0, 1], [4, 2]);
    for (const out of [softmax(x, 1), logSoftmax(x, 1)]) {
      const v = Array.from(out.dataSync());
      expect(v.slice(0, 6).every(Number.isNaN)).toBe(true);
      expect(v.slice(6).every(Number.isFinite)).toBe(true);
    }
  });

  it("an axis out of range is refused, naming the op and the shape", () => {
    expect(() => softmax(f64([1, 2], [2]), 1)).toThrow(/^softmax: axis 1 is out of range .*\[2\]/);
    expect(() => logSoftmax(f64([1, 2], [1, 2]), -3)).toThrow(
      /^logSoftmax: axis -3 is out of range .*\[1, 2\]/,
    );
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
