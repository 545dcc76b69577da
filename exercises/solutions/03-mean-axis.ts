/** Reference solution of exercises/03-mean-axis.ts. */
import { applyOp, type Tensor } from "../../src/index.ts";

export function meanAxis(x: Tensor, axis: number, keepdims: boolean): Tensor {
  const ax = axis < 0 ? axis + x.ndim : axis;
  const n = x.shape[ax];
  return applyOp(
    "meanAxis",
    [x],
    () => x.mean(axis, keepdims),
    // d mean/dx_i = 1/n: g, with the reduced axis put back, broadcast over x and divided by n
    (g) => [
      () => (keepdims ? g : g.reshape(x.shape.map((d, i) => (i === ax ? 1 : d)))).broadcastTo(x.shape).div(n),
    ],
  );
}
