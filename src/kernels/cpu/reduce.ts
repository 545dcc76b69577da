/** Reductions (sum, max) over any set of axes, and the strided copies (broadcast, permute). */
import type { ReduceOp, Shape, TypedArray } from "../backend.ts";
import { broadcastStrides, forEachRow, sizeOf, stridesOf } from "../shape.ts";

/** Strides into the reduced result: kept axes step through it, reduced axes stay put (stride 0). */
function reducedStrides(shape: Shape, axes: readonly number[]): number[] {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const strides = stridesOf(kept);
  return shape.map((_, i) => (axes.includes(i) ? 0 : strides[i]));
}

export function reduceInto(
  op: ReduceOp,
  x: TypedArray,
  shape: Shape,
  axes: readonly number[],
  out: TypedArray,
): void {
  out.fill(op === "sum" ? 0 : Number.NEGATIVE_INFINITY);
  if (shape.length === 0) {
    out[0] = x[0];
    return;
  }
  const last = shape.length - 1;
  const n = shape[last];
  const outStrides = reducedStrides(shape, axes);
  const lastReduced = axes.includes(last);
  forEachRow(shape, [stridesOf(shape), outStrides], ([xo, oo]) => {
    if (lastReduced) {
      // The whole row folds into one output element.
      let acc = out[oo];
      if (op === "sum") for (let j = 0; j < n; j++) acc += x[xo + j];
      else for (let j = 0; j < n; j++) acc = x[xo + j] > acc || Number.isNaN(x[xo + j]) ? x[xo + j] : acc;
      out[oo] = acc;
    } else if (op === "sum") {
      for (let j = 0; j < n; j++) out[oo + j] += x[xo + j];
    } else {
      for (let j = 0; j < n; j++) {
        const v = x[xo + j];
        if (v > out[oo + j] || Number.isNaN(v)) out[oo + j] = v;
      }
    }
  });
}

/** Copy `x` (of `shape`) into `out` (of `outShape`), repeating it along broadcast dimensions. */
export function broadcastInto(x: TypedArray, shape: Shape, outShape: Shape, out: TypedArray): void {
  if (outShape.length === 0 || sizeOf(outShape) === 0) {
    if (out.length > 0) out[0] = x[0];
    return;
  }
  const last = outShape.length - 1;
  const n = outShape[last];
  const xStrides = broadcastStrides(shape, outShape);
  const dx = xStrides[last];
  forEachRow(outShape, [xStrides, stridesOf(outShape)], ([xo, oo]) => {
    for (let j = 0; j < n; j++) out[oo + j] = x[xo + j * dx];
  });
}

/** out = x with its axes reordered: out.shape[i] = shape[perm[i]]. */
export function permuteInto(x: TypedArray, shape: Shape, perm: readonly number[], out: TypedArray): void {
  const outShape = perm.map((p) => shape[p]);
  if (outShape.length === 0 || sizeOf(outShape) === 0) {
    if (out.length > 0) out[0] = x[0];
    return;
  }
  const xStrides = stridesOf(shape);
  const readStrides = perm.map((p) => xStrides[p]);
  const last = outShape.length - 1;
  const n = outShape[last];
  const dx = readStrides[last];
  forEachRow(outShape, [readStrides, stridesOf(outShape)], ([xo, oo]) => {
    for (let j = 0; j < n; j++) out[oo + j] = x[xo + j * dx];
  });
}
