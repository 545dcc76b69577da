/**
 * Batched matrix multiply: C[…, m×n] = op(A[…])·op(B[…]) over leading batch dimensions, which
 * broadcast by NumPy rules (torch.matmul on 3-D and more). The last two dimensions of each operand
 * are its matrices; the transpose flags act on them as in the 2-D matmul.
 *
 * Broadcasting is done by broadcastTo, whose backward sums each gradient back over the batch
 * dimensions an operand was repeated along; the backward rule itself is the 2-D one, per matrix.
 */
import { broadcastShapes, formatShape, sizeOf } from "../../kernels/shape.ts";
import { applyOp } from "../op.ts";
import { shapeOf, Tensor } from "../tensor.ts";
import { type MatmulOptions, matmul } from "./matmul.ts";
import { broadcastTo, reshape } from "./shape.ts";

// With C = op(A)·op(B): d op(A) = G·op(B)ᵀ, d op(B) = op(A)ᵀ·G, read through the stored layouts
export function batchedMatmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const what = `batchedMatmul(${shapeOf(a)}${transA ? "ᵀ" : ""}, ${shapeOf(b)}${transB ? "ᵀ" : ""})`;
  if (a.ndim < 2 || b.ndim < 2) {
    throw new Error(`${what}: both operands need at least 2 dimensions (the last two hold the matrices)`);
  }
  if (a.dtype !== b.dtype) throw new Error(`${what}: dtypes differ (${a.dtype} and ${b.dtype})`);
  if (a.backend !== b.backend)
    throw new Error(`${what}: operands on different backends (${a.backend.name}, ${b.backend.name})`);
  const [ra, ca] = a.shape.slice(-2);
  const [rb, cb] = b.shape.slice(-2);
  const [m, k] = transA ? [ca, ra] : [ra, ca];
  const [kb, n] = transB ? [cb, rb] : [rb, cb];
  if (k !== kb) throw new Error(`${what}: inner dimensions differ (${k} vs ${kb})`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (batch === null) {
    throw new Error(
      `${what}: batch dimensions ${formatShape(a.shape.slice(0, -2))} and ${formatShape(b.shape.slice(0, -2))} cannot be broadcast together`,
    );
  }

  // One matrix B shared by every batch: a single 2-D matmul over all the rows of A at once.
  if (b.ndim === 2 && !transA) {
    return reshape(matmul(reshape(a, [-1, k]), b, { transB }), [...batch, m, n]);
  }
  const af = broadcastTo(a, [...batch, ra, ca]);
  const bf = broadcastTo(b, [...batch, rb, cb]);
  return applyOp(
    "batchedMatmul",
    [af, bf],
    () =>
      new Tensor(
        a.backend.matmul(af.storage, bf.storage, { batch: sizeOf(batch), m, k, n, transA, transB }),
        [...batch, m, n],
        a.backend,
      ),
    (g) => [
      transA
        ? () => batchedMatmul(bf, g, { transA: transB, transB: true }) // dA = op(B)·Gᵀ
        : () => batchedMatmul(g, bf, { transB: !transB }), // dA = G·op(B)ᵀ
      transB
        ? () => batchedMatmul(g, af, { transA: true, transB: transA }) // dB = Gᵀ·op(A)
        : () => batchedMatmul(af, g, { transA: !transA }), // dB = op(A)ᵀ·G
    ],
  );
}
