/**
 * Exercise 10-broadcast-kernel (chapter 10: under the hood).
 *
 * The cpu backend's broadcasting binary kernel, over plain typed arrays. Given a (row-major, of
 * shape aShape) and b (of shape bShape), compute op(a, b) elementwise with NumPy's broadcasting:
 *
 * - align the shapes from the right; a missing leading dimension counts as 1;
 * - each pair of dimensions must be equal, or one of them 1 (it is then repeated); else throw an
 *   Error that names both shapes;
 * - the output's shape takes the larger of each pair.
 *
 * For each output index, find the element of a (and of b) it reads: walk the output's indices and
 * give a size-1 dimension a stride of 0. Return the values and the output's shape.
 *
 * Grade it: npm run exercise -- 10-broadcast-kernel
 */
export function broadcastBinary(
  op: (x: number, y: number) => number,
  a: Float64Array,
  aShape: readonly number[],
  b: Float64Array,
  bShape: readonly number[],
): { values: Float64Array; shape: number[] } {
  throw new Error("not written yet");
}
