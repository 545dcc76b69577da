/**
 * Exercise 09-reparam-vs-reinforce (chapter 9: the VAE).
 *
 * Two unbiased estimators of ∇μ E_q[f(z)], q = N(μ, diag σ²), σ = exp(logvar/2), one per sample
 * z_s = μ + σ ⊙ ε_s (eps has shape [S, d], one row per sample; μ and logvar have shape [d]):
 *
 * 1. reparameterizedGradients(f, mu, logvar, eps): row s is ∇μ f(μ + σ ⊙ ε_s), the derivative of f
 *    itself through z = μ + σε. f maps the [S, d] samples to their [S] values. One backward pass
 *    gives every row: make one copy of μ per sample (a leaf of shape [S, d]), build z from it, and
 *    backpropagate Σ_s f(z_s).
 * 2. scoreFunctionGradients(fValues, eps, logvar): row s is f(z_s) · ∇μ log q(z_s) = f(z_s) · ε_s/σ
 *    (REINFORCE: it needs only f's values, fValues of shape [S], not its gradient).
 *
 * The grader checks both against the exact gradient of a quadratic and measures their variances.
 *
 * Grade it: npm run exercise -- 09-reparam-vs-reinforce
 */
import type { Tensor } from "../src/index.ts";

export function reparameterizedGradients(
  f: (z: Tensor) => Tensor,
  mu: Tensor,
  logvar: Tensor,
  eps: Tensor,
): Tensor {
  throw new Error("not written yet");
}

export function scoreFunctionGradients(fValues: Tensor, eps: Tensor, logvar: Tensor): Tensor {
  throw new Error("not written yet");
}
