/**
 * Gather and scatter-add along an axis: the pair of ops that index selection, slicing, stacking
 * and concatenation are composed from. Each is the other's adjoint, so each one's backward is the
 * other, and gradients of any order come out of the same two ops.
 *
 * The indices are constants of the graph (host integers), never differentiated. The ops that build
 * them check them in the user's terms; the kernels check them again, so a bad one never reads or
 * writes past the tensor.
 */
import { withAxisSize } from "../../kernels/gather.ts";
import { normalizeAxis } from "../axes.ts";
import { applyOp } from "../op.ts";
import { Tensor } from "../tensor.ts";

/** out[…, i, …] = x[…, indices[i], …] along `axis` (NumPy's take); no indices give an empty result. */
// d gather(x)/dx: each slab of the gradient added back where it was taken from (repeats add up)
export function gather(x: Tensor, axis: number, indices: Int32Array): Tensor {
  axis = normalizeAxis("gather", x.shape, axis);
  const shape = withAxisSize(x.shape, axis, indices.length);
  return applyOp(
    "gather",
    [x],
    () => new Tensor(x.backend.gather(x.storage, x.shape, axis, indices), shape, x.backend),
    (g) => [() => scatterAdd(g, axis, indices, x.shape[axis])],
  );
}

/** Zeros with `size` slabs along `axis`, then slab i of x added at indices[i]. */
// d scatterAdd(x)/dx: the gradient read back from where each slab went
export function scatterAdd(x: Tensor, axis: number, indices: Int32Array, size: number): Tensor {
  axis = normalizeAxis("scatterAdd", x.shape, axis);
  if (!(Number.isInteger(size) && size >= 0)) {
    throw new Error(`scatterAdd: size must be a non-negative integer, got ${size}`);
  }
  const shape = withAxisSize(x.shape, axis, size);
  return applyOp(
    "scatterAdd",
    [x],
    () => new Tensor(x.backend.scatterAdd(x.storage, x.shape, axis, indices, size), shape, x.backend),
    (g) => [() => gather(g, axis, indices)],
  );
}
