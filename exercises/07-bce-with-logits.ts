/**
 * Exercise 07-bce-with-logits (chapter 7: stability and gradient flow).
 *
 * Binary cross-entropy on logits ℓ (before the sigmoid) against targets t in [0, 1], averaged over
 * all elements. The textbook form −[t·log σ(ℓ) + (1 − t)·log(1 − σ(ℓ))] breaks in float32: at
 * ℓ = 20, σ(ℓ) rounds to 1 and log(1 − σ) to log 0. Simplify it first, by hand:
 *
 *   BCE(σ(ℓ), t) = softplus(ℓ) − t·ℓ,      softplus(ℓ) = log(1 + e^ℓ)
 *
 * and compute that with elbo's stable softplus. Its gradient, σ(ℓ) − t, comes out of autodiff.
 * Don't call elbo's binaryCrossEntropyWithLogits: that is the answer.
 *
 * Grade it: npm run exercise -- 07-bce-with-logits
 */
import type { Tensor } from "../src/index.ts";

export function bceWithLogits(logits: Tensor, targets: Tensor): Tensor {
  throw new Error("not written yet");
}
