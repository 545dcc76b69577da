/** Reference solution of exercises/10-broadcast-kernel.ts. */

/** Row-major strides of `shape` seen from an output of rank `rank`: 0 where a dimension is broadcast. */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const axis = out.length - shape.length + i;
    strides[axis] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

export function broadcastBinary(
  op: (x: number, y: number) => number,
  a: Float64Array,
  aShape: readonly number[],
  b: Float64Array,
  bShape: readonly number[],
): { values: Float64Array; shape: number[] } {
  const rank = Math.max(aShape.length, bShape.length);
  const shape = Array.from({ length: rank }, (_, i) => {
    const da = aShape[aShape.length - rank + i] ?? 1;
    const db = bShape[bShape.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `shapes [${aShape.join(", ")}] and [${bShape.join(", ")}] cannot be broadcast together`,
      );
    }
    return Math.max(da, db);
  });
  const [sa, sb] = [broadcastStrides(aShape, shape), broadcastStrides(bShape, shape)];
  const size = shape.reduce((p, d) => p * d, 1);
  const values = new Float64Array(size);
  const index = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < size; flat++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      ia += index[d] * sa[d];
      ib += index[d] * sb[d];
    }
    values[flat] = op(a[ia], b[ib]);
    // Advance the multi-index like an odometer, last axis fastest.
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return { values, shape };
}
