/**
 * Comparisons: masks, 1 where a relation holds and 0 where it does not (NaN compares false), and
 * the sign of x. Gradient rules use them as constants that say where a gradient goes: their
 * derivative is zero (almost everywhere), so they are made without a graph even when one is being
 * recorded, and a VJP built from them is still differentiable in everything else.
 */
import { broadcastShapes, formatShape } from "../../kernels/shape.ts";
import { type Operand, Tensor, toTensor } from "../tensor.ts";

/** The shape a comparison of `a` and `b` broadcasts to; `b` as a Tensor (a number is lifted next to `a`). */
function compared(op: string, a: Tensor, b: Operand): [number[], Tensor] {
  const bt = toTensor(b, a, op);
  return [maskShape(op, a, bt), bt];
}

function maskShape(op: string, a: Tensor, b: Tensor): number[] {
  const shape = broadcastShapes(a.shape, b.shape);
  if (shape === null || a.dtype !== b.dtype || a.backend !== b.backend) {
    throw new Error(
      `${op}: cannot compare ${a.dtype} ${formatShape(a.shape)} on ${a.backend.name} with ${b.dtype} ${formatShape(b.shape)} on ${b.backend.name}`,
    );
  }
  return shape;
}

/** 1 where a == b, else 0 (broadcast; b may be a number, as in the method form). */
export function equal(a: Tensor, b: Operand): Tensor {
  const [shape, bt] = compared("equal", a, b);
  return equalMask(shape, a, bt);
}

/** equal's mask for operands already checked (under the caller's name) to broadcast to `shape`. */
function equalMask(shape: number[], a: Tensor, b: Tensor): Tensor {
  return new Tensor(a.backend.binary("eq", a.storage, a.shape, b.storage, b.shape, shape), shape, a.backend);
}

/** 1 where a != b (also where either is NaN), else 0 (broadcast). */
export function notEqual(a: Tensor, b: Operand): Tensor {
  const [shape, bt] = compared("notEqual", a, b);
  const same = a.backend.binary("eq", a.storage, a.shape, bt.storage, bt.shape, shape);
  const one = a.backend.fill(1, 1, a.dtype);
  const mask = a.backend.binary("sub", one, [], same, shape, shape);
  a.backend.dispose(same);
  a.backend.dispose(one);
  return new Tensor(mask, shape, a.backend);
}

/** 1 where a > b, else 0 (broadcast). */
export function greater(a: Tensor, b: Operand): Tensor {
  const [shape, bt] = compared("greater", a, b);
  return greaterMask(shape, a, bt);
}

/**
 * greater's mask for operands already checked (under the caller's name) to broadcast to `shape`:
 * the comparison b < a itself, not the sign of a − b, which a GPU that flushes subnormals would
 * round to 0 for two neighbouring tiny numbers.
 */
function greaterMask(shape: number[], a: Tensor, b: Tensor): Tensor {
  return new Tensor(a.backend.binary("lt", b.storage, b.shape, a.storage, a.shape, shape), shape, a.backend);
}

/** 1 where a < b, else 0 (broadcast). */
export function less(a: Tensor, b: Operand): Tensor {
  const [shape, bt] = compared("less", a, b);
  return greaterMask(shape, bt, a);
}

/** 1 where a ≥ b: greater or equal, which never overlap, so a NaN on either side gives 0. */
export function greaterEqual(a: Tensor, b: Operand): Tensor {
  const [shape, bt] = compared("greaterEqual", a, b);
  return either(greaterMask(shape, a, bt), equalMask(shape, a, bt));
}

/** 1 where a ≤ b, else 0 (broadcast). */
export function lessEqual(a: Tensor, b: Operand): Tensor {
  const [shape, bt] = compared("lessEqual", a, b);
  return either(greaterMask(shape, bt, a), equalMask(shape, a, bt));
}

/** The union of two masks that never overlap: their sum. Both are freed. */
function either(p: Tensor, q: Tensor): Tensor {
  const storage = p.backend.binary("add", p.storage, p.shape, q.storage, q.shape, p.shape);
  p.dispose();
  q.dispose();
  return new Tensor(storage, p.shape, p.backend);
}

/** −1, 0 or 1 by the sign of x, and NaN for NaN (NumPy's sign; PyTorch's gives 0, hiding the NaN). */
export function sign(x: Tensor): Tensor {
  return new Tensor(x.backend.unary("sign", x.storage), x.shape, x.backend);
}
