/**
 * Comparisons: masks, 1 where a relation holds and 0 where it does not (NaN compares false), and
 * the sign of x. Gradient rules use them as constants that say where a gradient goes: their
 * derivative is zero (almost everywhere), so they are made without a graph even when one is being
 * recorded, and a VJP built from them is still differentiable in everything else.
 */
import { broadcastShapes, formatShape } from "../../kernels/shape.ts";
import { Tensor } from "../tensor.ts";

function maskShape(op: string, a: Tensor, b: Tensor): number[] {
  const shape = broadcastShapes(a.shape, b.shape);
  if (shape === null || a.dtype !== b.dtype || a.backend !== b.backend) {
    throw new Error(
      `${op}: cannot compare ${a.dtype} ${formatShape(a.shape)} on ${a.backend.name} with ${b.dtype} ${formatShape(b.shape)} on ${b.backend.name}`,
    );
  }
  return shape;
}

/** 1 where a == b, else 0 (broadcast). */
export function equal(a: Tensor, b: Tensor): Tensor {
  return equalMask(maskShape("equal", a, b), a, b);
}

/** equal's mask for operands already checked (under the caller's name) to broadcast to `shape`. */
function equalMask(shape: number[], a: Tensor, b: Tensor): Tensor {
  return new Tensor(a.backend.binary("eq", a.storage, a.shape, b.storage, b.shape, shape), shape, a.backend);
}

/** 1 where a != b (also where either is NaN), else 0 (broadcast). */
export function notEqual(a: Tensor, b: Tensor): Tensor {
  const shape = maskShape("notEqual", a, b);
  const same = a.backend.binary("eq", a.storage, a.shape, b.storage, b.shape, shape);
  const one = a.backend.fill(1, 1, a.dtype);
  const mask = a.backend.binary("sub", one, [], same, shape, shape);
  a.backend.dispose(same);
  a.backend.dispose(one);
  return new Tensor(mask, shape, a.backend);
}

/** 1 where a > b, else 0 (broadcast). */
export function greater(a: Tensor, b: Tensor): Tensor {
  return greaterMask(maskShape("greater", a, b), a, b);
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
export function less(a: Tensor, b: Tensor): Tensor {
  return greaterMask(maskShape("less", a, b), b, a);
}

/** 1 where a ≥ b: greater or equal, which never overlap, so a NaN on either side gives 0. */
export function greaterEqual(a: Tensor, b: Tensor): Tensor {
  const shape = maskShape("greaterEqual", a, b);
  return either(greaterMask(shape, a, b), equalMask(shape, a, b));
}

/** 1 where a ≤ b, else 0 (broadcast). */
export function lessEqual(a: Tensor, b: Tensor): Tensor {
  const shape = maskShape("lessEqual", a, b);
  return either(greaterMask(shape, b, a), equalMask(shape, a, b));
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
