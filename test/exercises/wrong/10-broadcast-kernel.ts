/** Planted wrong answer: aligns the shapes from the left, padding missing trailing dimensions with 1. */
export function broadcastBinary(
  op: (x: number, y: number) => number,
  a: Float64Array,
  aShape: readonly number[],
  b: Float64Array,
  bShape: readonly number[],
): { values: Float64Array; shape: number[] } {
  const rank = Math.max(aShape.length, bShape.length);
  const pa = Array.from({ length: rank }, (_, i) => aShape[i] ?? 1);
  const pb = Array.from({ length: rank }, (_, i) => bShape[i] ?? 1);
  const shape = pa.map((d, i) => {
    if (d !== pb[i] && d !== 1 && pb[i] !== 1)
      throw new Error(`shapes [${aShape}] and [${bShape}] do not broadcast`);
    return Math.max(d, pb[i]);
  });
  const strides = (s: number[]) => {
    const out = new Array<number>(rank).fill(0);
    let stride = 1;
    for (let i = rank - 1; i >= 0; i--) {
      out[i] = s[i] === 1 ? 0 : stride;
      stride *= s[i];
    }
    return out;
  };
  const [sa, sb] = [strides(pa), strides(pb)];
  const size = shape.reduce((p, d) => p * d, 1);
  const values = new Float64Array(size);
  for (let flat = 0; flat < size; flat++) {
    let rest = flat;
    let ia = 0;
    let ib = 0;
    for (let d = rank - 1; d >= 0; d--) {
      const i = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
      ia += i * sa[d];
      ib += i * sb[d];
    }
    values[flat] = op(a[ia], b[ib]);
  }
  return { values, shape };
}
