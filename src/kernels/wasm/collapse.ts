/**
 * Shape bookkeeping for the wasm backend's kernels, which work on rows: merge the dimensions of an
 * operation that can be walked as one, so that as much work as possible lands in few, long rows.
 *
 * Two neighbouring dimensions d, d+1 merge when every operand steps through them as through one
 * (stride[d] = stride[d+1]·size[d+1]): a [128, 200] + [128, 200] add is one row of 25,600, and a
 * [128, 200] + [200] bias add is 128 rows of 200 with the bias's row stride 0.
 */
import type { Shape } from "../backend.ts";

export interface Dim {
  size: number;
  /** One stride per operand, in elements (0 where the operand is broadcast along this dimension). */
  strides: number[];
}

/** The dimensions of `shape` with size-1 ones dropped and mergeable neighbours merged. */
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
 * Calls `visit` for every index of `dims` in row-major order, with each of the `operands` offsets there
 * (Σ index·stride) and the index's position k in that order (0, 1, 2, …).
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
