/** Planted wrong answer: sum's gradient, without the division by n. */
import { applyOp, type Tensor } from "../../../src/index.ts";

export function meanAxis(x: Tensor, axis: number, keepdims: boolean): Tensor {
  const ax = axis < 0 ? axis + x.ndim : axis;
  return applyOp(
    "meanAxis",
    [x],
    () => x.mean(axis, keepdims),
    (g) => [() => (keepdims ? g : g.reshape(x.shape.map((d, i) => (i === ax ? 1 : d)))).broadcastTo(x.shape)],
  );
}
