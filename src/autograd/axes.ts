/**
 * Axes as ops take them: an axis counts from the front (0 is the first) or, negative, from the end
 * (−1 is the last), as in NumPy and PyTorch. Every op that takes an axis reads it through here, so
 * they all accept the same numbers and refuse the rest with the same words.
 */
import type { Shape } from "../kernels/backend.ts";
import { formatShape } from "../kernels/shape.ts";

/**
 * `axis` as 0 … rank − 1, for an op on `shape` whose axes number `rank` (one more than the shape's
 * for an op that inserts an axis, as stack); otherwise an error naming the op.
 */
export function normalizeAxis(
  op: string,
  shape: Shape,
  axis: number,
  rank = shape.length,
  what = `a tensor of shape ${formatShape(shape)}`,
): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    const range = rank === 0 ? "it has no axes" : `axes run from ${-rank} to ${rank - 1}`;
    throw new Error(`${op}: axis ${axis} is out of range for ${what} (${range})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Several axes (every axis when undefined), each normalized, distinct, in increasing order. */
export function normalizeAxes(
  op: string,
  shape: Shape,
  axes: number | readonly number[] | undefined,
): number[] {
  if (axes === undefined) return shape.map((_, i) => i);
  const list = typeof axes === "number" ? [axes] : axes;
  const out = list.map((a) => normalizeAxis(op, shape, a));
  if (new Set(out).size !== out.length) throw new Error(`${op}: repeated axis in [${list.join(", ")}]`);
  return out.sort((x, y) => x - y);
}
