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
import { broadcastStrides, collapse, reductionRuns, stridesOf } from "../shape.ts";

/** An access pattern: out[i0, i1, …] reads input j at Σ_d i_d · strides[j][d]. */
export interface Access {
  /** The output's dimensions, outermost first; never empty (a single element is [1]). */
  shape: number[];
  /** For each input, one stride per output dimension. */
  strides: number[][];
}

/** The walk `collapse` (kernels/shape.ts) makes as short as it can, as an access pattern. */
export function accessOf(shape: Shape, strides: readonly (readonly number[])[]): Access {
  const dims = collapse(shape, strides);
  if (dims.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: dims.map((d) => d.size), strides: strides.map((_, j) => dims.map((d) => d.strides[j])) };
}

/** a op b with both broadcast to outShape: one access pattern with two inputs. */
export function binaryAccess(aShape: Shape, bShape: Shape, outShape: Shape): Access {
  return accessOf(outShape, [broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)]);
}

/** cond ? a : b with all three broadcast to outShape: one access pattern with three inputs. */
export function whereAccess(condShape: Shape, aShape: Shape, bShape: Shape, outShape: Shape): Access {
  return accessOf(
    outShape,
    [condShape, aShape, bShape].map((s) => broadcastStrides(s, outShape)),
  );
}

/** x repeated along its size-1 dimensions to outShape. */
export function broadcastAccess(shape: Shape, outShape: Shape): Access {
  return accessOf(outShape, [broadcastStrides(shape, outShape)]);
}

/** x with its axes reordered: out.shape[i] = shape[perm[i]], read through x's strides in that order. */
export function permuteAccess(shape: Shape, perm: readonly number[]): Access {
  const strides = stridesOf(shape);
  return accessOf(
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
  const runs = reductionRuns(shape, axes);
  const reduced = runs.filter((r) => r.reduced);
  if (reduced.length > 1) return null;
  const at = runs.findIndex((r) => r.reduced);
  const product = (list: { size: number }[]) => list.reduce((n, r) => n * r.size, 1);
  if (at < 0) return { outer: 1, reduced: 1, inner: product(runs) };
  return { outer: product(runs.slice(0, at)), reduced: runs[at].size, inner: product(runs.slice(at + 1)) };
}
