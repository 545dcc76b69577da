/** Planted wrong answer: sums the leading axes only, forgetting the axes where the shape has a 1. */
import { applyOp, type Tensor } from "../../../src/index.ts";

export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  const extra = g.ndim - shape.length;
  const axes = g.shape.map((_, axis) => axis).filter((axis) => axis < extra);
  return axes.length === 0 ? g : g.sum(axes);
}

export function addBroadcast(a: Tensor, b: Tensor): Tensor {
  return applyOp(
    "addBroadcast",
    [a, b],
    () => a.add(b),
    (g) => [() => sumToShape(g, a.shape), () => sumToShape(g, b.shape)],
  );
}
