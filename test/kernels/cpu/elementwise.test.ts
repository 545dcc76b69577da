/**
 * The cpu backend's binary kernels against per-element index arithmetic written the slow, obvious
 * way (unravel the output index, find each input element), in both dtypes, with broadcasting. Each
 * op does one operation per element, so the results must match exactly. The special values and what
 * every backend must share are in the conformance suite (conformance.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { BinaryOp, DType, TypedArray } from "../../../src/kernels/backend.ts";
import { CpuBackend } from "../../../src/kernels/cpu/backend.ts";
import { sizeOf } from "../../../src/kernels/shape.ts";
import { broadcastSource, unravel } from "../../fixtures/ravel.ts";

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

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 4 });

function valuesArb(size: number): fc.Arbitrary<number[]> {
  return fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: size, maxLength: size });
}

function typed(values: number[], dtype: DType): TypedArray {
  return dtype === "float64" ? Float64Array.from(values) : Float32Array.from(values);
}

function read(storage: ReturnType<CpuBackend["fromArray"]>): number[] {
  return Array.from(cpu.readSync(storage));
}

/** Two shapes that broadcast: suffixes of a common shape with some dimensions set to 1. */
const broadcastPairArb = shapeArb.chain((out) => {
  const operand = fc
    .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }))
    .map(([rank, ones]) => out.slice(out.length - rank).map((d, i) => (ones[i] ? 1 : d)));
  return fc.tuple(operand, operand);
});

describe("binary ops with broadcasting vs naive index computation", () => {
  const ops: BinaryOp[] = ["add", "sub", "mul", "div", "max", "min", "eq", "pow"];
  for (const dtype of ["float64", "float32"] as const) {
    it(`every op, ${dtype}`, () => {
      const arb = broadcastPairArb.chain(([aShape, bShape]) =>
        fc.tuple(
          fc.constant(aShape),
          fc.constant(bShape),
          valuesArb(sizeOf(aShape)),
          valuesArb(sizeOf(bShape)),
          fc.constantFrom(...ops),
        ),
      );
      fc.assert(
        fc.property(arb, ([aShape, bShape, av, bv, op]) => {
          const n = Math.max(aShape.length, bShape.length);
          const outShape = Array.from({ length: n }, (_, i) =>
            Math.max(aShape[aShape.length - n + i] ?? 1, bShape[bShape.length - n + i] ?? 1),
          );
          const a = typed(av, dtype);
          const b = typed(bv, dtype);
          const out = cpu.binary(op, cpu.fromArray(a), aShape, cpu.fromArray(b), bShape, outShape);
          expect(out.dtype).toBe(dtype);
          const expected = typed(
            Array.from({ length: sizeOf(outShape) }, (_, i) => {
              const index = unravel(i, outShape);
              return binaryReference[op](
                a[broadcastSource(index, aShape)],
                b[broadcastSource(index, bShape)],
              );
            }),
            dtype,
          );
          expectSameNumbers(read(out), expected);
        }),
        RUNS,
      );
    });
  }
});
