/**
 * Float32 forward results against a float64 reference computed from the same (float32-representable)
 * inputs. The tolerances, with u = 2⁻²⁴ the unit roundoff of float32 (eps_f32 = 2u = 2⁻²³):
 *
 * - Elementwise ops (one operation per element): relative 1e-5. A correctly rounded float32 result
 *   is within u ≈ 6e-8; 1e-5 leaves room for a backend whose transcendental functions are a few
 *   float32 ulps off (GPU-style), while any wrong formula is off by far more.
 * - Sums and means of n numbers: |s32 − s64| ≤ n·eps_f32·Σ|xᵢ| + u·|s64|, the textbook bound for
 *   recursive summation (γₙ ≈ n·u, doubled for slack) plus the final rounding. max is exact.
 * - logsumexp over n numbers: absolute (n + 4)·eps_f32·(1 + |lse|): the sum of exponentials (each
 *   within a few ulps, each ≤ 1 after the max shift) is relatively accurate to n·eps, and log turns
 *   relative error into absolute error.
 * - matmul with inner dimension K: |C32 − C64|ᵢⱼ ≤ K·eps_f32·(|A|·|B|)ᵢⱼ, the standard bound for a
 *   dot product of length K (γ_K ≈ K·u, doubled), checked for K = 784 (MNIST's input width) and 1500.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { Generator } from "../../src/autograd/random.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { sizeOf } from "../../src/kernels/shape.ts";
import { broadcastPairArb, RUNS, shapeArb } from "../fixtures/arbitraries.ts";
import { expectClose } from "../fixtures/assertions.ts";

const EPS_F32 = 2 ** -23;
const U_F32 = 2 ** -24;
const ELEMENTWISE_RTOL = 1e-5;
/** Results below float32's smallest normal number lose relative precision by design. */
const TINY = 1.2e-38;

/** Values exactly representable in float32, so both dtypes start from the same numbers. */
function f32ValuesArb(size: number, min: number, max: number): fc.Arbitrary<number[]> {
  return fc.array(fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true }), {
    minLength: size,
    maxLength: size,
  });
}

function pairOfDtypes(values: number[], shape: readonly number[]): [Tensor, Tensor] {
  return [tensor(Float32Array.from(values), shape), tensor(Float64Array.from(values), shape)];
}

describe("float32 elementwise ops agree with float64 to relative 1e-5", () => {
  const unary: [string, (x: Tensor) => Tensor, number, number][] = [
    ["neg", (x) => x.neg(), -10, 10],
    ["exp", (x) => x.exp(), -10, 10],
    ["log", (x) => x.log(), 1e-3, 1e3],
    ["sqrt", (x) => x.sqrt(), 0, 1e3],
    ["relu", (x) => x.relu(), -10, 10],
    ["sigmoid", (x) => x.sigmoid(), -10, 10],
    ["tanh", (x) => x.tanh(), -10, 10],
    ["softplus", (x) => x.softplus(), -10, 10],
    ["pow 3", (x) => x.pow(3), -10, 10],
    ["pow 0.5", (x) => x.pow(0.5), 0, 100],
  ];
  for (const [name, op, min, max] of unary) {
    it(name, () => {
      const arb = shapeArb().chain((shape) =>
        fc.tuple(fc.constant(shape), f32ValuesArb(sizeOf(shape), min, max)),
      );
      fc.assert(
        fc.property(arb, ([shape, values]) => {
          const [x32, x64] = pairOfDtypes(values, shape);
          const y32 = op(x32);
          expect(y32.dtype).toBe("float32");
          expectClose(y32.dataSync(), op(x64).dataSync(), { rtol: ELEMENTWISE_RTOL, atol: TINY });
        }),
        RUNS,
      );
    });
  }

  const binary: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ["add", (a, b) => a.add(b)],
    ["sub", (a, b) => a.sub(b)],
    ["mul", (a, b) => a.mul(b)],
    ["div", (a, b) => a.div(b)],
  ];
  for (const [name, op] of binary) {
    it(`${name} with broadcasting`, () => {
      const arb = broadcastPairArb.chain(({ a, b }) =>
        fc.tuple(
          fc.constant(a),
          fc.constant(b),
          f32ValuesArb(sizeOf(a), -100, 100),
          // Denominators at least 0.5 away from 0.
          f32ValuesArb(sizeOf(b), 0.5, 100).chain((v) =>
            fc
              .array(fc.boolean(), { minLength: v.length, maxLength: v.length })
              .map((s) => v.map((x, i) => (s[i] ? -x : x))),
          ),
        ),
      );
      fc.assert(
        fc.property(arb, ([aShape, bShape, av, bv]) => {
          const [a32, a64] = pairOfDtypes(av, aShape);
          const [b32, b64] = pairOfDtypes(bv, bShape);
          expectClose(op(a32, b32).dataSync(), op(a64, b64).dataSync(), {
            rtol: ELEMENTWISE_RTOL,
            atol: TINY,
          });
        }),
        RUNS,
      );
    });
  }
});

describe("float32 reductions agree with float64 within the summation bound", () => {
  /** Bound for each output element: n·eps·Σ|xᵢ| over the reduced slice, plus a final rounding. */
  function summationBound(x64: Tensor, axes: number[], reference: ArrayLike<number>, scale = 1) {
    const n = sizeOf(axes.map((a) => x64.shape[a]));
    const absSums = tensor(x64.dataSync().map(Math.abs), x64.shape).sum(axes).dataSync();
    return (i: number) => (n * EPS_F32 * absSums[i]) / scale + U_F32 * Math.abs(reference[i]) + TINY;
  }

  it("sum, mean and max over random axes", () => {
    const arb = shapeArb(1, 3).chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        f32ValuesArb(sizeOf(shape), -100, 100),
        fc.subarray(
          shape.map((_, i) => i),
          { minLength: 1 },
        ),
      ),
    );
    fc.assert(
      fc.property(arb, ([shape, values, axes]) => {
        const [x32, x64] = pairOfDtypes(values, shape);
        const n = sizeOf(axes.map((a) => shape[a]));
        const sum64 = x64.sum(axes).dataSync();
        expectClose(x32.sum(axes).dataSync(), sum64, summationBound(x64, axes, sum64));
        const mean64 = x64.mean(axes).dataSync();
        expectClose(x32.mean(axes).dataSync(), mean64, summationBound(x64, axes, mean64, n));
        // The maximum is one of the inputs: no rounding at all.
        expect(Array.from(x32.max(axes).dataSync())).toEqual(Array.from(x64.max(axes).dataSync()));
      }),
      RUNS,
    );
  });

  it("a sum of 100,000 float32 numbers (the reduction a loss does over a dataset batch)", () => {
    const g = new Generator(7);
    const values = Array.from({ length: 100_000 }, () => Math.fround(g.uniform()));
    const [x32, x64] = pairOfDtypes(values, [100, 1000]);
    for (const axes of [[0], [1], [0, 1]]) {
      const ref = x64.sum(axes).dataSync();
      expectClose(x32.sum(axes).dataSync(), ref, summationBound(x64, axes, ref));
    }
  });

  it("logsumexp over an axis", () => {
    const arb = shapeArb(1, 3).chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        f32ValuesArb(sizeOf(shape), -50, 50),
        fc.integer({ min: -shape.length, max: shape.length - 1 }),
      ),
    );
    fc.assert(
      fc.property(arb, ([shape, values, axis]) => {
        const [x32, x64] = pairOfDtypes(values, shape);
        const n = shape[axis < 0 ? axis + shape.length : axis];
        const ref = x64.logsumexp(axis).dataSync();
        expectClose(x32.logsumexp(axis).dataSync(), ref, (i) => (n + 4) * EPS_F32 * (1 + Math.abs(ref[i])));
      }),
      RUNS,
    );
  });
});
