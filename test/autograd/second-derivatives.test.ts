/**
 * Every differentiable op, one order up: the derivative of its backward pass (recorded with
 * createGraph) must match centered finite differences of its first derivatives in float64
 * (gradgradcheck), for random shapes and values drawn by fast-check. A VJP that reached for raw
 * backend values, or whose own derivative were wrong, fails here.
 *
 * Inputs stay where each op is smooth, as in gradients.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type GradcheckOptions, gradgradcheck } from "../../src/autograd/gradcheck.ts";
import { add, div, maximum, minimum, mul, sub } from "../../src/autograd/ops/elementwise.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { binaryCrossEntropy, binaryCrossEntropyWithLogits } from "../../src/nn/losses.ts";
import {
  awayFromZeroArb,
  broadcastPairArb,
  distinctValuesArb,
  randomTensorArb,
  shapeArb,
  tensorArb,
  valuesArb,
} from "../fixtures/arbitraries.ts";

/** Second derivatives cost a backward pass per finite difference: fewer runs than first-order tests. */
const RUNS = { numRuns: 12 };

function expectGradGradOk(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options?: GradcheckOptions,
) {
  const report = gradgradcheck(fn, inputs, options);
  expect(report.passed, report.message).toBe(true);
}

const positive = (size: number) => valuesArb(size, 0.3, 2);

describe("second derivatives of every op match finite differences of the first (float64, random shapes)", () => {
  const binary: [string, (a: Tensor, b: Tensor) => Tensor, (n: number) => fc.Arbitrary<number[]>][] = [
    ["add", add, valuesArb],
    ["sub", sub, valuesArb],
    ["mul", mul, valuesArb],
    ["div", div, (n) => awayFromZeroArb(n, 0.5, 2)],
  ];
  for (const [name, op, bValues] of binary) {
    it(`${name} with broadcasting`, () => {
      fc.assert(
        fc.property(
          broadcastPairArb.chain(({ a, b }) => fc.tuple(tensorArb(a), tensorArb(b, bValues))),
          ([a, b]) => expectGradGradOk(op, [a, b], { name }),
        ),
        RUNS,
      );
    });
  }

  it("maximum and minimum away from ties", () => {
    fc.assert(
      fc.property(
        shapeArb(0, 2).chain((s) => tensorArb([2, ...s], distinctValuesArb)),
        (x) => {
          const [a, b] = [x.sliceRows(0, 1), x.sliceRows(1, 2)];
          expectGradGradOk((p, q) => maximum(p, q).mul(p), [a, b], { name: "maximum" });
          expectGradGradOk((p, q) => minimum(p, q).mul(q), [a, b], { name: "minimum" });
        },
      ),
      RUNS,
    );
  });

  const unary: [string, (x: Tensor) => Tensor, (n: number) => fc.Arbitrary<number[]>][] = [
    ["neg", (x) => x.neg().mul(x), valuesArb],
    ["exp", (x) => x.exp(), valuesArb],
    ["log", (x) => x.log(), positive],
    ["sqrt", (x) => x.sqrt(), positive],
    ["pow 3", (x) => x.pow(3), valuesArb],
    ["pow 2.5", (x) => x.pow(2.5), positive],
    ["pow 0", (x) => x.pow(0).mul(x.mul(x)), valuesArb],
    ["relu", (x) => x.relu().mul(x), (n) => awayFromZeroArb(n, 0.2, 2)],
    ["sigmoid", (x) => x.sigmoid(), valuesArb],
    ["tanh", (x) => x.tanh(), valuesArb],
    ["softplus", (x) => x.softplus(), valuesArb],
    ["cast", (x) => x.to("float32").to("float64").mul(x), valuesArb],
  ];
  for (const [name, op, values] of unary) {
    it(name, () => {
      // float32 round-trips lose digits: cast is checked at the float32 step's resolution.
      const options = name === "cast" ? { name, eps: 1e-3, atol: 1e-3 } : { name };
      fc.assert(
        fc.property(randomTensorArb(values), (x) => expectGradGradOk(op, [x], options)),
        RUNS,
      );
    });
  }

  it("matmul with every transpose flag (its second derivative couples the two operands)", () => {
    const dims = fc.tuple(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 1, max: 3 }),
    );
    fc.assert(
      fc.property(dims, fc.boolean(), fc.boolean(), ([m, k, n], transA, transB) => {
        const a = tensorArb(transA ? [k, m] : [m, k]);
        const b = tensorArb(transB ? [n, k] : [k, n]);
        fc.assert(
          fc.property(a, b, (x, y) =>
            expectGradGradOk((p, q) => p.matmul(q, { transA, transB }).tanh(), [x, y], { name: "matmul" }),
          ),
          { numRuns: 2 },
        );
      }),
      RUNS,
    );
  });

  it("sum, mean and max over random axes; logsumexp over one", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 3).chain((shape) =>
          fc.tuple(
            tensorArb(shape, distinctValuesArb),
            fc.subarray(shape.map((_, i) => i)),
            fc.integer({ min: 0, max: shape.length - 1 }),
            fc.boolean(),
          ),
        ),
        ([x, axes, axis, keepdims]) => {
          expectGradGradOk((t) => t.sum(axes, keepdims).pow(2), [x], { name: "sum" });
          expectGradGradOk((t) => t.mean(axes, keepdims).pow(2), [x], { name: "mean" });
          expectGradGradOk((t) => t.max(axes, keepdims).pow(2), [x], { name: "max" });
          expectGradGradOk((t) => t.logsumexp(axis, keepdims), [x], { name: "logsumexp" });
        },
      ),
      RUNS,
    );
  });

  it("reshape, transpose, broadcastTo, gatherRows and sliceRows", () => {
    fc.assert(
      fc.property(
        shapeArb(2, 3).chain((shape) =>
          fc.tuple(
            tensorArb(shape),
            fc.shuffledSubarray(
              shape.map((_, i) => i),
              { minLength: shape.length, maxLength: shape.length },
            ),
            fc.array(fc.integer({ min: 0, max: shape[0] - 1 }), { minLength: 1, maxLength: 5 }),
          ),
        ),
        ([x, perm, rows]) => {
          const square = (t: Tensor) => t.mul(t);
          expectGradGradOk((t) => square(t.reshape([-1])), [x], { name: "reshape" });
          expectGradGradOk((t) => square(t.transpose(perm)), [x], { name: "transpose" });
          expectGradGradOk((t) => square(t.broadcastTo([2, ...t.shape])), [x], { name: "broadcastTo" });
          expectGradGradOk((t) => square(t.gatherRows(rows)), [x], { name: "gatherRows" });
          expectGradGradOk((t) => square(t.sliceRows(0, 1)), [x], { name: "sliceRows" });
        },
      ),
      RUNS,
    );
  });

  it("binary cross-entropy on probabilities (its own VJP) and on logits, in both arguments", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 2).chain((s) =>
          fc.tuple(
            tensorArb(s, (n) => valuesArb(n, 0.1, 0.9)),
            tensorArb(s, (n) => valuesArb(n, 0, 1)),
          ),
        ),
        ([p, t]) => {
          expectGradGradOk((a, b) => binaryCrossEntropy(a, b, "sum"), [p, t], { name: "binaryCrossEntropy" });
          expectGradGradOk((a, b) => binaryCrossEntropyWithLogits(a, b, "mean"), [p, t], {
            name: "binaryCrossEntropyWithLogits",
          });
        },
      ),
      RUNS,
    );
  });
});
