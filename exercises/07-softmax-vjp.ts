/**
 * Exercise 07-softmax-vjp (chapter 7: stability and gradient flow).
 *
 * softmax along the last axis as an op of your own (applyOp, named "softmax"):
 *
 * - forward, stable: subtract each row's maximum first (x.max(-1, true)), so the largest exponent
 *   is e⁰ = 1, then s = e / Σ e along the last axis. At [1000, 1000, 999] the unshifted form gives
 *   ∞/∞ = NaN.
 * - VJP, by hand, without forming the Jacobian diag(s) − s·sᵀ: gᵀJ = s ⊙ (g − Σ g ⊙ s), the sum
 *   along the last axis with keepdims. The VJP receives (g, out), and out is s.
 *
 * Grade it: npm run exercise -- 07-softmax-vjp
 */
import { applyOp, type Tensor } from "../src/index.ts";

export function softmax(x: Tensor): Tensor {
  throw new Error("not written yet");
}
