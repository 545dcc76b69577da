/**
 * Elementwise kernels over typed arrays (MiniTorch's `map` and `zip`).
 *
 * Each op is written once, as a JavaScript expression in `x` (unary) or `a` and `b` (binary), and
 * compiled into its own loop the first time it runs. A single generic loop calling `f(a[i], b[i])`
 * would be simpler, but V8 then sees a dozen different functions at one call site, stops inlining
 * them and runs several times slower; one loop per op keeps every call site monomorphic. (tfjs's
 * WebGL backend builds its shaders from snippets the same way.) Nothing is allocated per element.
 */
import type { BinaryOp, Shape, TypedArray, UnaryOp } from "../backend.ts";
import { broadcastStrides, forEachRow, sameShape, stridesOf } from "../shape.ts";

export const unaryExpressions: Record<UnaryOp, string> = {
  neg: "-x",
  exp: "Math.exp(x)",
  log: "Math.log(x)",
  sqrt: "Math.sqrt(x)",
  // NaN passes through, as in PyTorch: a NaN must not vanish. relu(-0) = 0.
  relu: "x > 0 || x !== x ? x : 0",
  // Written so that exp never overflows: for x < 0, e^x / (1 + e^x).
  sigmoid: "x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))",
  tanh: "Math.tanh(x)",
  // softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|), finite for any x.
  softplus: "Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))",
  abs: "Math.abs(x)",
  sign: "Math.sign(x)",
};

export const binaryExpressions: Record<BinaryOp, string> = {
  add: "a + b",
  sub: "a - b",
  mul: "a * b",
  div: "a / b",
  pow: "Math.pow(a, b)",
  // NaN wins, as in NumPy's maximum/minimum: a NaN must not vanish from a computation.
  max: "a >= b || a !== a ? a : b",
  min: "a <= b || a !== a ? a : b",
  eq: "a === b ? 1 : 0",
  lt: "a < b ? 1 : 0",
};

type MapKernel = (x: TypedArray, out: TypedArray) => void;
type ZipKernel = (
  a: TypedArray,
  aShape: Shape,
  b: TypedArray,
  bShape: Shape,
  outShape: Shape,
  out: TypedArray,
) => void;

/** The kernel of `op`, compiled on first use and kept. */
function compiled<Op, K>(cache: Map<Op, K>, op: Op, compile: () => K): K {
  let kernel = cache.get(op);
  if (kernel === undefined) {
    kernel = compile();
    cache.set(op, kernel);
  }
  return kernel;
}

const mapKernels = new Map<UnaryOp, MapKernel>();
const zipKernels = new Map<BinaryOp, ZipKernel>();

/** out[i] = op(x[i]) */
export function mapInto(op: UnaryOp, x: TypedArray, out: TypedArray): void {
  const kernel = compiled(mapKernels, op, () => {
    const loop = `for (let i = 0; i < out.length; i++) { const x = src[i]; out[i] = ${unaryExpressions[op]}; }`;
    return new Function("src", "out", loop) as MapKernel;
  });
  kernel(x, out);
}

/** out = op(a, b) with a and b broadcast to outShape. */
export function zipInto(
  op: BinaryOp,
  a: TypedArray,
  aShape: Shape,
  b: TypedArray,
  bShape: Shape,
  outShape: Shape,
  out: TypedArray,
): void {
  const kernel = compiled(zipKernels, op, () => {
    const build = new Function("layout", "sameShape", `return ${zipSource(binaryExpressions[op])};`);
    return build(broadcastLayout, sameShape) as ZipKernel;
  });
  kernel(a, aShape, b, bShape, outShape, out);
}

/** The source of one op's zip kernel: fast paths for equal shapes and a scalar side, then the general case. */
function zipSource(expression: string): string {
  return `function zip(A, aShape, B, bShape, outShape, out) {
    const n = out.length;
    if (sameShape(aShape, outShape) && sameShape(bShape, outShape)) {
      for (let i = 0; i < n; i++) { const a = A[i], b = B[i]; out[i] = ${expression}; }
    } else if (B.length === 1 && sameShape(aShape, outShape)) {
      const b = B[0];
      for (let i = 0; i < n; i++) { const a = A[i]; out[i] = ${expression}; }
    } else if (A.length === 1 && sameShape(bShape, outShape)) {
      const a = A[0];
      for (let i = 0; i < n; i++) { const b = B[i]; out[i] = ${expression}; }
    } else {
      const { rows, width, da, db } = layout(aShape, bShape, outShape);
      for (let r = 0; r < rows.length; r += 3) {
        const ao = rows[r], bo = rows[r + 1], oo = rows[r + 2];
        for (let j = 0; j < width; j++) { const a = A[ao + j * da], b = B[bo + j * db]; out[oo + j] = ${expression}; }
      }
    }
  }`;
}

/**
 * Where each row of a broadcast zip starts in a, b and out (flattened triples), the row width, and
 * the step along the last axis in a and in b (0 where that side is broadcast).
 */
function broadcastLayout(
  aShape: Shape,
  bShape: Shape,
  outShape: Shape,
): { rows: number[]; width: number; da: number; db: number } {
  const last = outShape.length - 1;
  const aStrides = broadcastStrides(aShape, outShape);
  const bStrides = broadcastStrides(bShape, outShape);
  const rows: number[] = [];
  forEachRow(outShape, [aStrides, bStrides, stridesOf(outShape)], ([ao, bo, oo]) => {
    rows.push(ao, bo, oo);
  });
  return {
    rows,
    width: last < 0 ? 1 : outShape[last],
    da: last < 0 ? 0 : aStrides[last],
    db: last < 0 ? 0 : bStrides[last],
  };
}

/** out = cond ≠ 0 ? a : b, the three broadcast to outShape: a select, so the side not taken never leaks in. */
export function whereInto(
  cond: TypedArray,
  condShape: Shape,
  a: TypedArray,
  aShape: Shape,
  b: TypedArray,
  bShape: Shape,
  outShape: Shape,
  out: TypedArray,
): void {
  if (outShape.length === 0) {
    out[0] = cond[0] !== 0 ? a[0] : b[0];
    return;
  }
  const last = outShape.length - 1;
  const n = outShape[last];
  const strides = [condShape, aShape, bShape].map((s) => broadcastStrides(s, outShape));
  const [dc, da, db] = strides.map((s) => s[last]);
  forEachRow(outShape, [...strides, stridesOf(outShape)], ([co, ao, bo, oo]) => {
    for (let j = 0; j < n; j++) out[oo + j] = cond[co + j * dc] !== 0 ? a[ao + j * da] : b[bo + j * db];
  });
}
