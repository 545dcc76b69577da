/** Reference solution of exercises/09-reparam-vs-reinforce.ts. */
import { noGrad, type Tensor } from "../../src/index.ts";

export function reparameterizedGradients(
  f: (z: Tensor) => Tensor,
  mu: Tensor,
  logvar: Tensor,
  eps: Tensor,
): Tensor {
  // One copy of μ per sample, so that backward leaves each sample's ∂f/∂μ in its own row.
  const copies = noGrad(() => mu.broadcastTo(eps.shape).mul(1));
  copies.requiresGrad = true;
  const sigma = logvar.detach().mul(0.5).exp();
  f(copies.add(sigma.mul(eps)))
    .sum()
    .backward();
  return copies.grad!;
}

export function scoreFunctionGradients(fValues: Tensor, eps: Tensor, logvar: Tensor): Tensor {
  // ∇μ log N(z; μ, σ²) = (z − μ)/σ² = ε/σ
  const sigma = logvar.mul(0.5).exp();
  return fValues.reshape([fValues.size, 1]).mul(eps.div(sigma));
}
