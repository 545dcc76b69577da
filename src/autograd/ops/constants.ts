/**
 * Tensors that a gradient rule uses as constants: masks saying where a gradient goes, and zeros.
 * Their derivative is zero (almost everywhere), so they are made without a graph even when one is
 * being recorded, and a VJP built from them is still differentiable in everything else.
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
  const shape = maskShape("equal", a, b);
  return new Tensor(a.backend.binary("eq", a.storage, a.shape, b.storage, b.shape, shape), shape, a.backend);
}

/** 1 where x > 0, else 0 (also for NaN): relu's slope. */
export function positive(x: Tensor): Tensor {
  return new Tensor(x.backend.unary("step", x.storage), x.shape, x.backend);
}

/** 1 where a > b, else 0 (broadcast). */
export function greater(a: Tensor, b: Tensor): Tensor {
  const shape = maskShape("greater", a, b);
  const difference = a.backend.binary("sub", a.storage, a.shape, b.storage, b.shape, shape);
  const mask = a.backend.unary("step", difference);
  a.backend.dispose(difference);
  return new Tensor(mask, shape, a.backend);
}

/** A tensor of `value`s with the shape, dtype and backend of `like`. */
export function fullLike(like: Tensor, value: number): Tensor {
  return new Tensor(like.backend.fill(like.size, value, like.dtype), like.shape, like.backend);
}

export function zerosLike(like: Tensor): Tensor {
  return fullLike(like, 0);
}
