/**
 * Exercise 09-gaussian-kl (chapter 9: the VAE).
 *
 * The VAE's KL term in closed form, for q = N(μ, diag σ²) with logvar = log σ² and the prior
 * p = N(0, I), summed over every element:
 *
 *   KL(q ‖ p) = −½ Σ (1 + logvar − μ² − e^logvar)
 *
 * 1. gaussianKl(mu, logvar): that sum, as a tensor of shape [].
 * 2. gaussianKlGradients(mu, logvar): its gradient by hand, without autodiff:
 *      ∂KL/∂μ = μ        ∂KL/∂logvar = ½ (e^logvar − 1)
 *    as tensors shaped like mu and logvar. (At μ = 0, σ = 1 both vanish: q is the prior.)
 *
 * Grade it: npm run exercise -- 09-gaussian-kl
 */
import type { Tensor } from "../src/index.ts";

export function gaussianKl(mu: Tensor, logvar: Tensor): Tensor {
  throw new Error("not written yet");
}

export function gaussianKlGradients(mu: Tensor, logvar: Tensor): { mu: Tensor; logvar: Tensor } {
  throw new Error("not written yet");
}
