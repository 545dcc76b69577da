/**
 * Shape bookkeeping for the GPU kernels: squeeze an n-dimensional strided access down to as few
 * dimensions as possible, so one kernel with at most three nested indices (gpu.js gives each
 * thread an x, y and z) covers broadcasting, permutes and reductions of any rank.
 *
 * Example: adding a bias of shape [784] to x of shape [128, 784] reads x with strides [784, 1] and
 * the bias with strides [0, 1]; neither can merge the two axes, so it stays 2-D. Adding two
 * [2, 3, 4] tensors reads both with strides [12, 4, 1], which merge into one axis of 24.
 */
import type { Shape } from "../backend.ts";
import { broadcastStrides, stridesOf } from "../shape.ts";

/** An access pattern: out[i0, i1, …] reads input j at Σ_d i_d · strides[j][d]. */
export interface Access {
  /** The output's dimensions, outermost first; never empty (a single element is [1]). */
  shape: number[];
  /** For each input, one stride per output dimension. */
  strides: number[][];
}

/**
 * Drop size-1 dimensions and merge neighbours d, d+1 that every input walks through as one run
 * (stride[d] = stride[d+1] · shape[d+1]). The element order, and so every read, is unchanged.
 */
export function collapse(shape: Shape, strides: readonly (readonly number[])[]): Access {
  const dims: number[] = [];
  const out: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    const merges = last >= 0 && strides.every((s, j) => out[j][last] === s[d] * shape[d]);
    if (merges) {
      dims[last] *= shape[d];
      strides.forEach((s, j) => {
        out[j][last] = s[d];
      });
    } else {
      dims.push(shape[d]);
      strides.forEach((s, j) => {
        out[j].push(s[d]);
      });
    }
  }
  if (dims.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: dims, strides: out };
}

/** a op b with both broadcast to outShape: one access pattern with two inputs. */
export function binaryAccess(aShape: Shape, bShape: Shape, outShape: Shape): Access {
  return collapse(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
}

/** cond ? a : b with all three broadcast to outShape: one access pattern with three inputs. */
export function whereAccess(condShape: Shape, aShape: Shape, bShape: Shape, outShape: Shape): Access {
  return collapse(
    outShape,
    [condShape, aShape, bShape].map((s) => broadcastStrides(s, outShape)),
  );
}

/** x repeated along its size-1 dimensions to outShape. */
export function broadcastAccess(shape: Shape, outShape: Shape): Access {
  return collapse(outShape, [broadcastStrides(shape, outShape)]);
}

/** x with its axes reordered: out.shape[i] = shape[perm[i]], read through x's strides in that order. */
export function permuteAccess(shape: Shape, perm: readonly number[]): Access {
  const strides = stridesOf(shape);
  return collapse(
    perm.map((p) => shape[p]),
    [perm.map((p) => strides[p])],
  );
}

/**
 * A reduction seen as x of shape [outer, reduced, inner] summed (or maxed) over the middle axis:
 * out[o, i] = Σ_r x[(o · reduced + r) · inner + i]. Any set of reduced axes that is one contiguous
 * run (once size-1 axes are ignored) fits, e.g. a sum over everything or over the batch axis;
 * null when the reduced axes are split by kept ones ([2, 3, 4] over axes 0 and 2).
 */
export function reduceAccess(
  shape: Shape,
  axes: readonly number[],
): { outer: number; reduced: number; inner: number } | null {
  const dims = shape.map((d, i) => ({ size: d, reduced: axes.includes(i) })).filter((d) => d.size !== 1);
  const first = dims.findIndex((d) => d.reduced);
  if (first < 0) return { outer: 1, reduced: 1, inner: dims.reduce((n, d) => n * d.size, 1) };
  let end = first;
  while (end < dims.length && dims[end].reduced) end++;
  if (dims.slice(end).some((d) => d.reduced)) return null;
  const product = (list: { size: number }[]) => list.reduce((n, d) => n * d.size, 1);
  return {
    outer: product(dims.slice(0, first)),
    reduced: product(dims.slice(first, end)),
    inner: product(dims.slice(end)),
  };
}
