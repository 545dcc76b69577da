/** Planted wrong answer: dB multiplies G by a matrix of ones where Aᵀ belongs (right shapes, wrong values). */
import { applyOp, type Tensor } from "../../../src/index.ts";

export function batchedMatmul(a: Tensor, b: Tensor): Tensor {
  return applyOp(
    "batchedMatmul",
    [a, b],
    () => a.batchedMatmul(b),
    (g) => [
      () => g.batchedMatmul(b, { transB: true }),
      () => a.mul(0).add(1).batchedMatmul(g, { transA: true }),
    ],
  );
}
