/**
 * Matrix multiply of 2-D tensors, C = op(A)·op(B), where op(X) is X or Xᵀ.
 *
 * Its backward is two more matrix multiplies. For C = A·B:
 *   dA = G·Bᵀ   (m×n · n×k)
 *   dB = Aᵀ·G   (k×m · m×n)
 * The transpose flags let the backend read Aᵀ and Bᵀ in place, so no transpose is ever copied;
 * and with the flags on the forward too, a Linear layer stores W as out×in like PyTorch and
 * computes x·Wᵀ directly.
 */
import { applyOp } from "../op.ts";
import { shapeOf, Tensor } from "../tensor.ts";

export interface MatmulOptions {
  /** Use Aᵀ: A is stored k×m. */
  transA?: boolean;
  /** Use Bᵀ: B is stored n×k. */
  transB?: boolean;
}

// C = A·B: dA = G·Bᵀ, dB = Aᵀ·G; with a transposed operand the same rule, read through its layout
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  // The errors' prefix, made only when one is thrown: matmul is on every training step's hot path.
  const fail = (problem: string) =>
    new Error(`matmul(${shapeOf(a)}${transA ? "ᵀ" : ""}, ${shapeOf(b)}${transB ? "ᵀ" : ""}): ${problem}`);
  if (a.ndim !== 2 || b.ndim !== 2) throw fail("both operands must be 2-D matrices");
  if (a.dtype !== b.dtype) throw fail(`dtypes differ (${a.dtype} and ${b.dtype})`);
  if (a.backend !== b.backend)
    throw fail(`operands on different backends (${a.backend.name}, ${b.backend.name})`);
  const [m, k] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (k !== kb) throw fail(`inner dimensions differ (${k} vs ${kb})`);

  return applyOp(
    "matmul",
    [a, b],
    () =>
      new Tensor(
        a.backend.matmul(a.storage, b.storage, { batch: 1, m, k, n, transA, transB }),
        [m, n],
        a.backend,
      ),
    (g) => {
      // C = A·B: dA = G·Bᵀ, dB = Aᵀ·G
      if (!transA && !transB)
        return [() => matmul(g, b, { transB: true }), () => matmul(a, g, { transA: true })];
      // C = Aᵀ·B: dA = (G·Bᵀ)ᵀ = B·Gᵀ, dB = A·G
      if (transA && !transB) return [() => matmul(b, g, { transB: true }), () => matmul(a, g)];
      // C = A·Bᵀ: dA = G·B, dB = (Aᵀ·G)ᵀ = Gᵀ·A
      if (!transA && transB) return [() => matmul(g, b), () => matmul(g, a, { transA: true })];
      // C = Aᵀ·Bᵀ: dA = (G·B)ᵀ = Bᵀ·Gᵀ, dB = (Aᵀ·G)ᵀ = Gᵀ·Aᵀ
      return [
        () => matmul(b, g, { transA: true, transB: true }),
        () => matmul(g, a, { transA: true, transB: true }),
      ];
    },
  );
}
