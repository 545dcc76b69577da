/** Reference solution of exercises/03-sum-to-shape.ts. */
import { applyOp, type Tensor } from "../../src/index.ts";

export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  const extra = g.ndim - shape.length;
  // The axes that broadcasting added (leading) or stretched (1 in shape, more in g).
  const axes = g.shape
    .map((_, axis) => axis)
    .filter((axis) => axis < extra || (shape[axis - extra] === 1 && g.shape[axis] !== 1));
  const summed = axes.length === 0 ? g : g.sum(axes, true);
  return summed.reshape(shape);
}

export function addBroadcast(a: Tensor, b: Tensor): Tensor {
  return applyOp(
    "addBroadcast",
    [a, b],
    () => a.add(b),
    // d(a+b)/da = 1, d(a+b)/db = 1, each summed over the axes its input was broadcast along
    (g) => [() => sumToShape(g, a.shape), () => sumToShape(g, b.shape)],
  );
}
