/**
 * Shared pieces of the autograd tests: fast-check arbitraries for shapes, broadcast-compatible
 * shape pairs and float64 tensors, and a gradcheck assertion that fails with gradcheck's message.
 */
import fc from "fast-check";
import { expect } from "vitest";
import { shapeArb } from "../../exercises/checks/arbitraries.ts";
import { tensor } from "../../src/autograd/create.ts";
import { type GradcheckOptions, gradcheck, gradgradcheck } from "../../src/autograd/gradcheck.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { sizeOf } from "../../src/kernels/shape.ts";

/** Runs per property: enough to hit ranks 0..3 and every broadcasting pattern, small enough to stay fast. */
export const RUNS = { numRuns: 40 };

// Shapes and broadcast pairs: the graders' own arbitraries (exercises/checks/arbitraries.ts).
export { broadcastPairArb, shapeArb } from "../../exercises/checks/arbitraries.ts";

/** `size` doubles in [min, max]. */
export function valuesArb(size: number, min = -2, max = 2): fc.Arbitrary<number[]> {
  return fc.array(fc.double({ min, max, noNaN: true }), { minLength: size, maxLength: size });
}

/** `size` doubles with min ≤ |v| ≤ max and either sign: away from a kink or a pole at 0. */
export function awayFromZeroArb(size: number, min = 0.2, max = 2): fc.Arbitrary<number[]> {
  return fc.array(
    fc.tuple(fc.double({ min, max, noNaN: true }), fc.boolean()).map(([v, negative]) => (negative ? -v : v)),
    { minLength: size, maxLength: size },
  );
}

/**
 * `size` values whose pairwise gaps are at least 0.1 (a shuffle of 0.1-spaced levels plus a little
 * jitter), so a maximum is never tied, not even after a finite-difference step.
 */
export function distinctValuesArb(size: number): fc.Arbitrary<number[]> {
  const levels = Array.from({ length: size }, (_, i) => (i - size / 2) * 0.1);
  return fc
    .tuple(
      fc.shuffledSubarray(levels, { minLength: size, maxLength: size }),
      fc.array(fc.double({ min: 0, max: 0.02, noNaN: true }), { minLength: size, maxLength: size }),
    )
    .map(([shuffled, jitter]) => shuffled.map((v, i) => v + jitter[i]));
}

/** A float64 tensor of `shape` with values drawn by `values(size)`. */
export function tensorArb(
  shape: number[],
  values: (size: number) => fc.Arbitrary<number[]> = valuesArb,
): fc.Arbitrary<Tensor> {
  return values(sizeOf(shape)).map((v) => f64(v, shape));
}

/** A float64 tensor of a random shape (rank minRank..maxRank) with values drawn by `values`. */
export function randomTensorArb(
  values: (size: number) => fc.Arbitrary<number[]> = valuesArb,
  minRank = 0,
  maxRank = 3,
): fc.Arbitrary<Tensor> {
  return shapeArb(minRank, maxRank).chain((shape) => tensorArb(shape, values));
}

export function f64(values: ArrayLike<number>, shape: readonly number[]): Tensor {
  return tensor(Float64Array.from(values), shape);
}

export function f32(values: ArrayLike<number>, shape: readonly number[]): Tensor {
  return tensor(Float32Array.from(values), shape);
}

/** Assert that backward agrees with finite differences, failing with gradcheck's own explanation. */
export function expectGradOk(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options?: GradcheckOptions,
): void {
  const report = gradcheck(fn, inputs, options);
  expect(report.passed, report.message).toBe(true);
}

/** Assert that second derivatives agree with finite differences of the first (gradgradcheck). */
export function expectGradGradOk(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options?: GradcheckOptions,
): void {
  const report = gradgradcheck(fn, inputs, options);
  expect(report.passed, report.message).toBe(true);
}

/** Every element of `actual` within atol + rtol·|expected| of `expected`, reporting the first that is not. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: { rtol?: number; atol?: number } | ((i: number) => number),
): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const bound =
      typeof tolerance === "function"
        ? tolerance(i)
        : (tolerance.atol ?? 0) + (tolerance.rtol ?? 0) * Math.abs(expected[i]);
    const error = Math.abs(actual[i] - expected[i]);
    if (!(error <= bound)) {
      expect.fail(
        `element ${i}: got ${actual[i]}, expected ${expected[i]} (error ${error} > bound ${bound})`,
      );
    }
  }
}
