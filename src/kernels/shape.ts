/** Shape arithmetic shared by every backend and by autograd: sizes, strides, NumPy broadcasting. */
import type { Shape } from "./backend.ts";

/**
 * The most numbers one tensor holds: what one typed array holds in V8 on 64-bit machines. Beyond
 * it an allocation fails with a bare "Invalid typed array length"; the checks name the shape first.
 */
export const MAX_TENSOR_SIZE = 2 ** 32;

/** Number of elements: the product of the dimensions (1 for a scalar's empty shape). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides: how far to step in the flat array to move one along each axis. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/**
 * NumPy broadcasting: align shapes at the right; each pair of dimensions must be equal or
 * contain a 1. Returns null when the shapes do not broadcast, so the caller can name the op.
 */
export function broadcastShapes(a: Shape, b: Shape): number[] | null {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides of `shape` read as if it had `outShape` (which it broadcasts to): a broadcast dimension
 * gets stride 0, so the same element is read again along it.
 */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const own = stridesOf(shape);
  const offset = outShape.length - shape.length;
  return outShape.map((_, d) => {
    const i = d - offset;
    return i < 0 || shape[i] === 1 ? 0 : own[i];
  });
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Visits every row (all indices of the dimensions but the last) of `shape` in row-major order,
 * handing `visit` the offset of that row's first element in each of several arrays with their own
 * strides. Kernels then run a tight loop over the last dimension, so the bookkeeping here is paid
 * once per row, not once per element.
 */
export function forEachRow(
  shape: Shape,
  strides: readonly (readonly number[])[],
  visit: (offsets: readonly number[]) => void,
): void {
  const nd = shape.length;
  const offsets = strides.map(() => 0);
  if (nd === 0) {
    visit(offsets);
    return;
  }
  const rows = sizeOf(shape) / shape[nd - 1];
  if (!(rows > 0)) return;
  const index = new Array<number>(nd - 1).fill(0);
  for (let r = 0; r < rows; r++) {
    visit(offsets);
    for (let d = nd - 2; d >= 0; d--) {
      index[d]++;
      for (let s = 0; s < strides.length; s++) offsets[s] += strides[s][d];
      if (index[d] < shape[d]) break;
      for (let s = 0; s < strides.length; s++) offsets[s] -= strides[s][d] * shape[d];
      index[d] = 0;
    }
  }
}
