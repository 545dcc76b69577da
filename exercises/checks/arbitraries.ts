/**
 * The random cases the graders draw: shapes of rank 0..3, pairs of shapes that broadcast together,
 * and float64 tensors of moderate values, so that a property check meets every broadcasting pattern
 * and every rank a student's code must handle.
 */
import fc from "fast-check";
import { type Tensor, tensor } from "../../src/index.ts";

/** Shapes of rank minRank..maxRank with dimensions 1..4. */
export function shapeArb(minRank = 0, maxRank = 3): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 1, max: 4 }), { minLength: minRank, maxLength: maxRank });
}

/**
 * Two shapes that broadcast together, drawn from their common result (of rank up to `maxRank`):
 * each operand keeps a suffix of the result's dimensions (so ranks differ) and replaces some of
 * them by 1 (so size-1 dimensions are stretched). The result itself may have size-1 dimensions,
 * where both operands are 1.
 */
export function broadcastPairsOf(maxRank: number): fc.Arbitrary<{ a: number[]; b: number[]; out: number[] }> {
  return shapeArb(0, maxRank).chain((common) => {
    const operand = fc
      .tuple(
        fc.integer({ min: 0, max: common.length }),
        fc.array(fc.boolean(), { minLength: common.length, maxLength: common.length }),
      )
      .map(([rank, ones]) =>
        common.slice(common.length - rank).map((d, i) => (ones[common.length - rank + i] ? 1 : d)),
      );
    return fc.tuple(operand, operand).map(([a, b]) => ({ a, b, out: broadcastResult(a, b) }));
  });
}

/** Broadcast pairs of rank up to 3. */
export const broadcastPairArb = broadcastPairsOf(3);

/** NumPy's broadcast of two compatible shapes: aligned from the right, a missing dimension is 1. */
export function broadcastResult(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => Math.max(a[a.length - n + i] ?? 1, b[b.length - n + i] ?? 1));
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** `size` doubles in [min, max]. */
export function valuesArb(size: number, min = -2, max = 2): fc.Arbitrary<number[]> {
  return fc.array(fc.double({ min, max, noNaN: true }), { minLength: size, maxLength: size });
}

export function f64(values: ArrayLike<number>, shape: readonly number[]): Tensor {
  return tensor(Float64Array.from(values), shape);
}

/** A float64 tensor of `shape` with values in [min, max]. */
export function tensorArb(shape: readonly number[], min = -2, max = 2): fc.Arbitrary<Tensor> {
  return valuesArb(sizeOf(shape), min, max).map((v) => f64(v, shape));
}
