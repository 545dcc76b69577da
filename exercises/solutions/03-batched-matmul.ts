/** Reference solution of exercises/03-batched-matmul.ts. */
import { applyOp, type Tensor } from "../../src/index.ts";

export function batchedMatmul(a: Tensor, b: Tensor): Tensor {
  return applyOp(
    "batchedMatmul",
    [a, b],
    () => a.batchedMatmul(b),
    // per matrix: dA = G·Bᵀ, dB = Aᵀ·G
    (g) => [() => g.batchedMatmul(b, { transB: true }), () => a.batchedMatmul(g, { transA: true })],
  );
}
