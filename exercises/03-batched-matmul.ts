/**
 * Exercise 03-batched-matmul (chapter 3: tensors).
 *
 * A stack of matrix products: a of shape [..., m, p] times b of shape [..., p, n] is, for every
 * index of the leading (batch) dimensions, one m×p · p×n product. The forward is written for you;
 * write the VJP. For each matrix of the stack it is chapter 3's rule, G = ∂L/∂C:
 *
 *   dA = G·Bᵀ        dB = Aᵀ·G
 *
 * x.batchedMatmul(y, { transA: true }) multiplies by xᵀ and { transB: true } by yᵀ, matrix by
 * matrix, without copying a transpose.
 *
 * Grade it: npm run exercise -- 03-batched-matmul
 */
import { applyOp, type Tensor } from "../src/index.ts";

export function batchedMatmul(a: Tensor, b: Tensor): Tensor {
  return applyOp(
    "batchedMatmul",
    [a, b],
    () => a.batchedMatmul(b),
    (g) => [
      () => {
        throw new Error("not written yet: the gradient of a");
      },
      () => {
        throw new Error("not written yet: the gradient of b");
      },
    ],
  );
}
