/**
 * Every differentiable op: the gradient backward() computes must match centered finite differences
 * in float64 (gradcheck's defaults: step 1e-6, |analytic − numeric| ≤ 1e-5 + 1e-3·|numeric|), for
 * random shapes and values drawn by fast-check. Non-scalar outputs are checked through gradcheck's
 * random projection, so every element of an op's vector-Jacobian product is exercised.
 *
 * Inputs stay where the op is smooth: positive bases for log/sqrt/non-integer pow, denominators and
 * relu inputs kept away from 0, max inputs without ties (ties have their own test).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { add, div, maximum, minimum, mul, sub } from "../../src/autograd/ops/elementwise.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { sizeOf } from "../../src/kernels/shape.ts";
import {
  awayFromZeroArb,
  broadcastPairArb,
  distinctValuesArb,
  RUNS,
  randomTensorArb,
  shapeArb,
  tensorArb,
  valuesArb,
} from "../fixtures/arbitraries.ts";
import { expectGradOk } from "../fixtures/assertions.ts";
import { f64 } from "../fixtures/tensors.ts";

/** A broadcast-compatible pair of float64 tensors; `bValues` chooses how b's values are drawn. */
function broadcastTensorsArb(bValues: (size: number) => fc.Arbitrary<number[]> = valuesArb) {
  return broadcastPairArb.chain(({ a, b }) => fc.tuple(tensorArb(a), tensorArb(b, bValues)));
}

describe("binary ops with broadcasting", () => {
  const cases: [string, (a: Tensor, b: Tensor) => Tensor, (size: number) => fc.Arbitrary<number[]>][] = [
    ["add", add, valuesArb],
    ["sub", sub, valuesArb],
    ["mul", mul, valuesArb],
    ["div", div, (n) => awayFromZeroArb(n, 0.5, 2)],
  ];
  for (const [name, op, bValues] of cases) {
    it(`${name}: gradients of both operands, broadcast shapes of different ranks`, () => {
      fc.assert(
        fc.property(broadcastTensorsArb(bValues), ([a, b]) => expectGradOk(op, [a, b])),
        RUNS,
      );
    });
  }

  for (const [name, op] of [
    ["maximum", maximum],
    ["minimum", minimum],
  ] as const) {
    it(`${name}: away from ties, each element's gradient goes to the side that wins`, () => {
      // a on the grid k/4, b on the grid k/4 + 1/8: never closer than 1/8, so never tied.
      const grid = (offset: number) => (n: number) =>
        fc.array(
          fc.integer({ min: -8, max: 8 }).map((k) => k / 4 + offset),
          { minLength: n, maxLength: n },
        );
      const arb = broadcastPairArb.chain(({ a, b }) =>
        fc.tuple(tensorArb(a, grid(0)), tensorArb(b, grid(1 / 8))),
      );
      fc.assert(
        fc.property(arb, ([a, b]) => expectGradOk(op, [a, b])),
        RUNS,
      );
    });
  }

  it("the broadcasting arbitrary really produces stretched and missing dimensions", () => {
    // Guards the generator itself: a property over pairs that never broadcast would prove little.
    const samples = fc.sample(broadcastPairArb, { numRuns: 300, seed: 1 });
    expect(samples.some(({ a, b }) => a.length !== b.length)).toBe(true);
    expect(
      samples.some(({ a, out }) => a.some((d, i) => d === 1 && out[out.length - a.length + i] > 1)),
    ).toBe(true);
  });
});

describe("unary ops", () => {
  const cases: [string, (x: Tensor) => Tensor, (size: number) => fc.Arbitrary<number[]>][] = [
    ["neg", (x) => x.neg(), valuesArb],
    ["exp", (x) => x.exp(), valuesArb],
    ["log", (x) => x.log(), (n) => valuesArb(n, 0.2, 4)],
    ["sqrt", (x) => x.sqrt(), (n) => valuesArb(n, 0.2, 4)],
    ["relu", (x) => x.relu(), (n) => awayFromZeroArb(n, 0.1, 2)],
    ["sigmoid", (x) => x.sigmoid(), (n) => valuesArb(n, -5, 5)],
    ["tanh", (x) => x.tanh(), (n) => valuesArb(n, -3, 3)],
    ["softplus", (x) => x.softplus(), (n) => valuesArb(n, -5, 5)],
  ];
  for (const [name, op, values] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(randomTensorArb(values), (x) => expectGradOk(op, [x])),
        RUNS,
      );
    });
  }

  it("pow with an integer exponent, any base", () => {
    fc.assert(
      fc.property(randomTensorArb(), fc.integer({ min: 0, max: 4 }), (x, p) =>
        expectGradOk((t) => t.pow(p), [x]),
      ),
      RUNS,
    );
  });

  it("pow with a non-integer (or negative) exponent, positive base", () => {
    fc.assert(
      fc.property(
        randomTensorArb((n) => valuesArb(n, 0.3, 3)),
        fc.double({ min: -2.5, max: 2.5, noNaN: true }),
        (x, p) => expectGradOk((t) => t.pow(p), [x]),
      ),
      RUNS,
    );
  });
});

describe("matmul", () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`transA=${transA}, transB=${transB}`, () => {
        const dims = fc.tuple(
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 1, max: 5 }),
        );
        const operands = dims.chain(([m, k, n]) =>
          fc.tuple(tensorArb(transA ? [k, m] : [m, k]), tensorArb(transB ? [n, k] : [k, n])),
        );
        fc.assert(
          fc.property(operands, ([a, b]) => {
            const y = a.matmul(b, { transA, transB });
            expect(y.shape).toEqual([transA ? a.shape[1] : a.shape[0], transB ? b.shape[0] : b.shape[1]]);
            expectGradOk((p, q) => p.matmul(q, { transA, transB }), [a, b]);
          }),
          RUNS,
        );
      });
    }
  }
});

describe("shape ops", () => {
  it("transpose of a matrix (default: reverse the axes)", () => {
    fc.assert(
      fc.property(randomTensorArb(valuesArb, 2, 2), (x) => expectGradOk((t) => t.transpose(), [x])),
      RUNS,
    );
  });

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

  it("reshape, with and without an inferred -1 dimension", () => {
    const arb = randomTensorArb().chain((x) => {
      const reversed = [...x.shape].reverse();
      const targets: number[][] = [[x.size], [-1], [1, ...x.shape, 1], reversed];
      if (reversed.length > 0) targets.push(reversed.map((d, i) => (i === reversed.length - 1 ? -1 : d)));
      return fc.tuple(fc.constant(x), fc.constantFrom(...targets));
    });
    fc.assert(
      fc.property(arb, ([x, target]) => {
        const y = x.reshape(target);
        expect(sizeOf(y.shape)).toBe(x.size);
        expectGradOk((t) => t.reshape(target).exp(), [x]);
      }),
      RUNS,
    );
  });

  it("broadcastTo sums the gradient of every copy back", () => {
    const arb = broadcastPairArb.chain(({ a, out }) => fc.tuple(tensorArb(a), fc.constant(out)));
    fc.assert(
      fc.property(arb, ([x, shape]) => {
        expect(x.broadcastTo(shape).shape).toEqual(shape);
        expectGradOk((t) => t.broadcastTo(shape), [x]);
      }),
      RUNS,
    );
  });

  it("gatherRows with repeated indices", () => {
    const arb = shapeArb(0, 2).chain((rest) =>
      fc.integer({ min: 1, max: 4 }).chain((rows) =>
        fc.tuple(
          tensorArb([rows, ...rest]),
          // The first index is appended again, so every case takes some row twice.
          fc
            .array(fc.integer({ min: 0, max: rows - 1 }), { minLength: 1, maxLength: 6 })
            .map((idx) => [...idx, idx[0]]),
        ),
      ),
    );
    fc.assert(
      fc.property(arb, ([x, idx]) => {
        expect(x.gatherRows(idx).shape).toEqual([idx.length, ...x.shape.slice(1)]);
        expectGradOk((t) => t.gatherRows(idx), [x]);
      }),
      RUNS,
    );
  });

  it("sliceRows", () => {
    const arb = randomTensorArb(valuesArb, 1, 3).chain((x) =>
      fc
        .tuple(fc.integer({ min: 0, max: x.shape[0] }), fc.integer({ min: 0, max: x.shape[0] }))
        .map(([i, j]) => [x, Math.min(i, j), Math.max(i, j)] as const),
    );
    fc.assert(
      fc.property(arb, ([x, start, end]) => expectGradOk((t) => t.sliceRows(start, end), [x])),
      RUNS,
    );
  });
});

/** A tensor of rank ≥ minRank, with an axes argument: undefined (all), one axis, or a subset, some negative. */
function reductionCaseArb(values: (size: number) => fc.Arbitrary<number[]>, minRank = 0) {
  return randomTensorArb(values, minRank).chain((x) => {
    const r = x.ndim;
    const axis = r === 0 ? fc.constant(undefined) : fc.integer({ min: -r, max: r - 1 });
    const subset = fc
      .subarray(
        x.shape.map((_, i) => i),
        { minLength: 0 },
      )
      .chain((axes) => fc.tuple(...axes.map((a) => fc.constantFrom(a, a - r))))
      .map((axes) => axes as number[]);
    return fc.tuple(fc.constant(x), fc.oneof(fc.constant(undefined), axis, subset), fc.boolean());
  });
}

describe("reductions", () => {
  const cases: [string, (x: Tensor, axes: number | number[] | undefined, keep: boolean) => Tensor][] = [
    ["sum", (x, axes, keep) => x.sum(axes, keep)],
    ["mean", (x, axes, keep) => x.mean(axes, keep)],
  ];
  for (const [name, op] of cases) {
    it(`${name} over all, one or several axes (negative too), keepdims both ways`, () => {
      fc.assert(
        fc.property(reductionCaseArb(valuesArb), ([x, axes, keep]) =>
          expectGradOk((t) => op(t, axes, keep), [x]),
        ),
        RUNS,
      );
    });
  }

  it("max over all, one or several axes (negative too), keepdims both ways, no ties", () => {
    fc.assert(
      fc.property(reductionCaseArb(distinctValuesArb), ([x, axes, keep]) =>
        expectGradOk((t) => t.max(axes, keep), [x]),
      ),
      RUNS,
    );
  });

  it("logsumexp over one axis (negative too), keepdims both ways", () => {
    const arb = randomTensorArb((n) => valuesArb(n, -4, 4), 1).chain((x) =>
      fc.tuple(fc.constant(x), fc.integer({ min: -x.ndim, max: x.ndim - 1 }), fc.boolean()),
    );
    fc.assert(
      fc.property(arb, ([x, axis, keep]) => expectGradOk((t) => t.logsumexp(axis, keep), [x])),
      RUNS,
    );
  });
});
