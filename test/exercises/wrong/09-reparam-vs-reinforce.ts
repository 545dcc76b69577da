/** Planted wrong answer: the score function as f·ε, forgetting to divide by σ (biased unless σ = 1). */
import { noGrad, type Tensor } from "../../../src/index.ts";

export function reparameterizedGradients(
  f: (z: Tensor) => Tensor,
  mu: Tensor,
  logvar: Tensor,
  eps: Tensor,
): Tensor {
  const copies = noGrad(() => mu.broadcastTo(eps.shape).mul(1));
  copies.requiresGrad = true;
  const sigma = logvar.detach().mul(0.5).exp();
  f(copies.add(sigma.mul(eps)))
    .sum()
    .backward();
  return copies.grad!;
}

export function scoreFunctionGradients(fValues: Tensor, eps: Tensor, logvar: Tensor): Tensor {
  return fValues.reshape([fValues.size, 1]).mul(eps);
}
