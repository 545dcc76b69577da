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

/** One dimension of a strided walk: its size, and the stride of each operand along it, in elements. */
export interface Dim {
  size: number;
  /** One stride per operand (0 where that operand is broadcast along this dimension). */
  strides: number[];
}

/**
 * The dimensions of `shape`, walked by operands with these `strides`, with size-1 dimensions
 * dropped and neighbours d, d+1 merged when every operand steps through them as through one
 * (stride[d] = stride[d+1]·size[d+1]): a [128, 200] + [128, 200] add is one run of 25,600, a
 * [128, 200] + [200] bias add stays 128 × 200 (the bias's stride is 0 along the first). The
 * order of the elements, and so every read, is unchanged; a single element gives no dimensions.
 */
export function collapse(shape: Shape, strides: readonly (readonly number[])[]): Dim[] {
  const dims: Dim[] = [];
  shape.forEach((size, d) => {
    if (size === 1) return;
    const dim = { size, strides: strides.map((s) => s[d]) };
    const previous = dims[dims.length - 1];
    if (previous?.strides.every((s, i) => s === dim.strides[i] * size)) {
      previous.size *= size;
      previous.strides = dim.strides;
    } else {
      dims.push(dim);
    }
  });
  return dims;
}

/**
 * A reduction's axes as runs: neighbouring axes of the same kind (reduced or kept) merged, size-1
 * axes dropped. [2, 3, 4] over axis 1 is kept 2, reduced 3, kept 4; over axes 1 and 2, kept 2,
 * reduced 12.
 */
export function reductionRuns(shape: Shape, axes: readonly number[]): { size: number; reduced: boolean }[] {
  const runs: { size: number; reduced: boolean }[] = [];
  shape.forEach((size, i) => {
    if (size === 1) return;
    const reduced = axes.includes(i);
    const previous = runs[runs.length - 1];
    if (previous?.reduced === reduced) previous.size *= size;
    else runs.push({ size, reduced });
  });
  return runs;
}

/**
 * Calls `visit` for every index of `dims` in row-major order, with each of the `operands` offsets
 * there (Σ index·stride) and the index's position k in that order (0, 1, 2, …).
 */
export function forEachIndex(
  dims: readonly Dim[],
  operands: number,
  visit: (offsets: readonly number[], k: number) => void,
): void {
  const offsets = new Array<number>(operands).fill(0);
  const index = new Array<number>(dims.length).fill(0);
  const total = dims.reduce((n, d) => n * d.size, 1);
  for (let k = 0; k < total; k++) {
    visit(offsets, k);
    for (let d = dims.length - 1; d >= 0; d--) {
      index[d]++;
      for (let s = 0; s < operands; s++) offsets[s] += dims[d].strides[s];
      if (index[d] < dims[d].size) break;
      for (let s = 0; s < operands; s++) offsets[s] -= dims[d].strides[s] * dims[d].size;
      index[d] = 0;
    }
  }
}

/**
 * Visits every row (all indices of the dimensions but the last) of `shape` in row-major order,
 * handing `visit` the offset of that row's first element in each of several arrays with their own
 * strides. Kernels then run a tight loop over the last dimension, so the bookkeeping here is paid
 * once per row, not once per element. Nothing is visited when `shape` holds no elements.
 */
export function forEachRow(
  shape: Shape,
  strides: readonly (readonly number[])[],
  visit: (offsets: readonly number[]) => void,
): void {
  if (sizeOf(shape) === 0) return;
  const rows = shape.slice(0, -1).map((size, d) => ({ size, strides: strides.map((s) => s[d]) }));
  forEachIndex(rows, strides.length, visit);
}
