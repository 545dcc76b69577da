/**
 * Ops that move numbers without changing them: reshape, transpose, broadcast, and taking rows.
 * Their backward passes move the gradient back the opposite way; they come in adjoint pairs
 * (broadcastTo and sumToShape; gatherRows is gather along the first axis, whose pair is in gather.ts),
 * each the other's VJP.
 */

import type { Shape } from "../../kernels/backend.ts";
import { broadcastShapes, formatShape, sameShape, sizeOf } from "../../kernels/shape.ts";
import { normalizeAxis } from "../axes.ts";
import { applyOp } from "../op.ts";
import { Tensor } from "../tensor.ts";
import { gather } from "./gather.ts";

/** The same values in a new shape with as many elements; one dimension may be -1 (inferred). */
// d reshape(x)/dx: the gradient reshaped back
export function reshape(x: Tensor, shape: Shape): Tensor {
  const inferred = inferShape(x, shape);
  if (sameShape(inferred, x.shape)) return x;
  return applyOp(
    "reshape",
    [x],
    () => new Tensor(x.backend.copy(x.storage), inferred, x.backend), // a copy: every tensor owns its storage
    (g) => [() => reshape(g, x.shape)],
  );
}

function inferShape(x: Tensor, shape: Shape): number[] {
  const unknown = shape.filter((d) => d === -1).length;
  const known = sizeOf(shape.filter((d) => d !== -1));
  if (unknown > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new Error(`reshape: invalid target shape ${formatShape(shape)}`);
  }
  const out = shape.map((d) => (d === -1 ? x.size / known : d));
  if (sizeOf(out) !== x.size || out.some((d) => !Number.isInteger(d))) {
    throw new Error(
      `reshape: cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(shape)}`,
    );
  }
  return out;
}

/** Reorder the axes (default: reverse them, so a matrix becomes its transpose); negative axes count from the end. */
// d transpose(x)/dx: the gradient transposed back by the inverse permutation
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const notPermutation = () =>
    new Error(`transpose: [${perm?.join(", ")}] is not a permutation of the axes of ${formatShape(x.shape)}`);
  if (perm !== undefined && perm.length !== x.ndim) throw notPermutation();
  const p =
    perm?.map((axis) => normalizeAxis("transpose", x.shape, axis)) ?? x.shape.map((_, i) => x.ndim - 1 - i);
  if (![...p].sort((a, b) => a - b).every((v, i) => v === i)) throw notPermutation();
  const inverse = new Array<number>(p.length);
  p.forEach((axis, i) => {
    inverse[axis] = i;
  });
  const shape = p.map((axis) => x.shape[axis]);
  return applyOp(
    "transpose",
    [x],
    () => new Tensor(x.backend.permute(x.storage, x.shape, p), shape, x.backend),
    (g) => [() => transpose(g, inverse)],
  );
}

/** Repeat x along its size-1 (or missing leading) dimensions to `shape`. */
// d broadcast(x)/dx: each copy's gradient summed back into the one element it came from
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(
      `broadcastTo: target shape ${formatShape(shape)} must hold non-negative integers (broadcasting ${formatShape(x.shape)})`,
    );
  }
  const out = broadcastShapes(x.shape, shape);
  if (out === null || !sameShape(out, shape)) {
    throw new Error(`broadcastTo: cannot broadcast ${formatShape(x.shape)} to ${formatShape(shape)}`);
  }
  if (sameShape(x.shape, shape)) return x;
  return applyOp(
    "broadcastTo",
    [x],
    () => new Tensor(x.backend.broadcastTo(x.storage, x.shape, shape), shape, x.backend),
    (g) => [() => sumToShape(g, x.shape)],
  );
}

/**
 * Sum `x` over the axes along which an input of `shape` was broadcast to x's shape, so it has that
 * shape again: how a binary op's gradient returns to an operand that was repeated.
 */
// d sumToShape(x)/dx: each element of x went into one sum, whose gradient it receives
export function sumToShape(x: Tensor, shape: Shape): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const lead = x.ndim - shape.length;
  const axes: number[] = [];
  for (let d = 0; d < x.ndim; d++) {
    if (d < lead || (shape[d - lead] === 1 && x.shape[d] !== 1)) axes.push(d);
  }
  return applyOp(
    "sumToShape",
    [x],
    () => new Tensor(x.backend.reduce("sum", x.storage, x.shape, axes), shape, x.backend),
    (g) => [() => broadcastTo(g, x.shape)],
  );
}

/** Rows `indices` of x (along the first axis), e.g. a minibatch out of a dataset. */
// d x[indices]/dx: each row's gradient added back at the row it came from (a row taken twice gets both)
export function gatherRows(x: Tensor, indices: Int32Array | readonly number[]): Tensor {
  if (x.ndim < 1) throw new Error("gatherRows: needs a tensor with at least one dimension, got a scalar");
  const rows = x.shape[0];
  const idx = indices instanceof Int32Array ? indices : Int32Array.from(indices);
  // The indices as given, not as Int32Array made them: 1.7 would silently become row 1.
  for (const i of indices) {
    if (!(Number.isInteger(i) && i >= 0 && i < rows)) {
      throw new Error(
        `gatherRows: index ${i} is out of range for ${rows} rows (shape ${formatShape(x.shape)})`,
      );
    }
  }
  return gather(x, 0, idx);
}

/** Rows start ≤ i < end, like x[start:end] in NumPy. */
// d x[start:end]/dx: the gradient put back at rows start..end, zero elsewhere (it is gatherRows of a range)
export function sliceRows(x: Tensor, start: number, end: number): Tensor {
  if (
    x.ndim < 1 ||
    !(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= x.shape[0])
  ) {
    throw new Error(`sliceRows: rows ${start}..${end} are out of range for shape ${formatShape(x.shape)}`);
  }
  return gatherRows(
    x,
    Int32Array.from({ length: end - start }, (_, i) => start + i),
  );
}
