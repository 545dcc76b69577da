/**
 * Gather and scatter-add along an axis: the pair of ops that index selection, slicing, stacking
 * and concatenation are composed from. Each is the other's adjoint, so each one's backward is the
 * other, and gradients of any order come out of the same two ops.
 *
 * The indices are constants of the graph (host integers), never differentiated. Each index is
 * checked against its axis by the kernels; the axis and the kinds of the arguments here, since
 * both ops are public and JavaScript callers have no types to stop them.
 */
import { withAxisSize } from "../../kernels/gather.ts";
import { formatShape } from "../../kernels/shape.ts";
import { normalizeAxis } from "../axes.ts";
import { applyOp } from "../op.ts";
import { describeValue, expectTensor, Tensor } from "../tensor.ts";

/** The axis as 0 … ndim − 1, once the input is a tensor and the indices an Int32Array; else an error naming the op. */
function checkArguments(op: string, x: Tensor, axis: number, indices: Int32Array): number {
  expectTensor(op, "the input", x);
  if (!(indices instanceof Int32Array))
    throw new Error(`${op}: the indices must be an Int32Array, got ${describeValue(indices)}`);
  return normalizeAxis(op, x.shape, axis);
}

/** out[…, i, …] = x[…, indices[i], …] along `axis` (NumPy's take); no indices give an empty result. */
// d gather(x)/dx: each slab of the gradient added back where it was taken from (repeats add up)
export function gather(x: Tensor, axis: number, indices: Int32Array): Tensor {
  axis = checkArguments("gather", x, axis, indices);
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
  axis = checkArguments("scatterAdd", x, axis, indices);
  if (!Number.isSafeInteger(size) || size < 0)
    throw new Error(`scatterAdd: size must be a whole number from 0, got ${size}`);
  if (indices.length !== x.shape[axis])
    throw new Error(
      `scatterAdd: ${indices.length} indices for the ${x.shape[axis]} slabs of axis ${axis} of shape ${formatShape(x.shape)}`,
    );
  const shape = withAxisSize(x.shape, axis, size);
  return applyOp(
    "scatterAdd",
    [x],
    () => new Tensor(x.backend.scatterAdd(x.storage, x.shape, axis, indices, size), shape, x.backend),
    (g) => [() => gather(g, axis, indices)],
  );
}
