/**
 * Elementwise kernels over typed arrays: one scalar function per op, and two loops (map and zip)
 * that apply them. Nothing is allocated per element.
 */
import type { BinaryOp, Shape, TypedArray, UnaryOp } from "../backend.ts";
import { broadcastStrides, forEachRow, sameShape, stridesOf } from "../shape.ts";

export const unaryFunctions: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  relu: (x) => (x > 0 ? x : 0),
  step: (x) => (x > 0 ? 1 : 0),
  // Written so that exp never overflows: for x < 0 use e^x / (1 + e^x).
  sigmoid: (x) => {
    if (x >= 0) return 1 / (1 + Math.exp(-x));
    const e = Math.exp(x);
    return e / (1 + e);
  },
  tanh: Math.tanh,
  // softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|), finite for any x.
  softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  abs: Math.abs,
  sign: Math.sign,
};

export const binaryFunctions: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  max: (a, b) => (a >= b ? a : b),
  min: (a, b) => (a <= b ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
};

/** out[i] = f(x[i]) */
export function mapInto(f: (x: number) => number, x: TypedArray, out: TypedArray): void {
  for (let i = 0; i < out.length; i++) out[i] = f(x[i]);
}

/** out = f(a, b) with a and b broadcast to outShape. */
export function zipInto(
  f: (a: number, b: number) => number,
  a: TypedArray,
  aShape: Shape,
  b: TypedArray,
  bShape: Shape,
  outShape: Shape,
  out: TypedArray,
): void {
  // Fast paths: same shapes, or one side a single number.
  if (sameShape(aShape, outShape) && sameShape(bShape, outShape)) {
    for (let i = 0; i < out.length; i++) out[i] = f(a[i], b[i]);
    return;
  }
  if (b.length === 1 && sameShape(aShape, outShape)) {
    const s = b[0];
    for (let i = 0; i < out.length; i++) out[i] = f(a[i], s);
    return;
  }
  if (a.length === 1 && sameShape(bShape, outShape)) {
    const s = a[0];
    for (let i = 0; i < out.length; i++) out[i] = f(s, b[i]);
    return;
  }
  const last = outShape.length - 1;
  const aStrides = broadcastStrides(aShape, outShape);
  const bStrides = broadcastStrides(bShape, outShape);
  const n = outShape[last];
  const da = aStrides[last];
  const db = bStrides[last];
  forEachRow(outShape, [aStrides, bStrides, stridesOf(outShape)], ([ao, bo, oo]) => {
    for (let j = 0; j < n; j++) out[oo + j] = f(a[ao + j * da], b[bo + j * db]);
  });
}
