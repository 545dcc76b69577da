/**
 * The cpu backend's binary kernels against per-element index arithmetic written the slow, obvious
 * way (unravel the output index, find each input element), in both dtypes, with broadcasting. Each
 * op does one operation per element, so the results must match exactly. The special values and what
 * every backend must share are in the conformance suite (conformance.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BinaryOp } from "../../../src/kernels/backend.ts";
import { CpuBackend } from "../../../src/kernels/cpu/backend.ts";
import { sizeOf } from "../../../src/kernels/shape.ts";
import { broadcastPairsOf, valuesArb } from "../../fixtures/arbitraries.ts";
import { broadcastSource, unravel } from "../../fixtures/ravel.ts";
import { typedArray } from "../../fixtures/tensors.ts";

const RUNS = { numRuns: 50 };

/** What each binary op means, written here rather than taken from the backend. */
const binaryReference: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  max: Math.max,
  min: Math.min,
  eq: (a, b) => (a === b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
};

/** Equal as numbers: NaN equals NaN, and −0 equals +0 (max/min of the two may give either). */
function sameNumber(x: number, y: number): boolean {
  return x === y || (Number.isNaN(x) && Number.isNaN(y));
}

function expectSameNumbers(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!sameNumber(actual[i], expected[i]))
      expect.fail(`element ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

const cpu = new CpuBackend();

function read(storage: ReturnType<CpuBackend["fromArray"]>): number[] {
  return Array.from(cpu.readSync(storage));
}

describe("binary ops with broadcasting vs naive index computation", () => {
  const ops: BinaryOp[] = ["add", "sub", "mul", "div", "max", "min", "eq", "lt", "pow"];
  for (const dtype of ["float64", "float32"] as const) {
    it(`every op, ${dtype}`, () => {
      const arb = broadcastPairsOf(4).chain(({ a: aShape, b: bShape }) =>
        fc.tuple(
          fc.constant(aShape),
          fc.constant(bShape),
          valuesArb(sizeOf(aShape), -10, 10),
          valuesArb(sizeOf(bShape), -10, 10),
          fc.constantFrom(...ops),
        ),
      );
      fc.assert(
        fc.property(arb, ([aShape, bShape, av, bv, op]) => {
          const n = Math.max(aShape.length, bShape.length);
          const outShape = Array.from({ length: n }, (_, i) =>
            Math.max(aShape[aShape.length - n + i] ?? 1, bShape[bShape.length - n + i] ?? 1),
          );
          const a = typedArray(dtype, av);
          const b = typedArray(dtype, bv);
          const out = cpu.binary(op, cpu.fromArray(a), aShape, cpu.fromArray(b), bShape, outShape);
          expect(out.dtype).toBe(dtype);
          const expected = typedArray(
            dtype,
            Array.from({ length: sizeOf(outShape) }, (_, i) => {
              const index = unravel(i, outShape);
              return binaryReference[op](
                a[broadcastSource(index, aShape)],
                b[broadcastSource(index, bShape)],
              );
            }),
          );
          expectSameNumbers(read(out), expected);
        }),
        RUNS,
      );
    });
  }
});
