/** Reference solution of exercises/09-gaussian-kl.ts. */
import type { Tensor } from "../../src/index.ts";

export function gaussianKl(mu: Tensor, logvar: Tensor): Tensor {
  return logvar.add(1).sub(mu.mul(mu)).sub(logvar.exp()).sum().mul(-0.5);
}

export function gaussianKlGradients(mu: Tensor, logvar: Tensor): { mu: Tensor; logvar: Tensor } {
  // ∂KL/∂μ = μ;  ∂KL/∂logvar = −½(1 − e^logvar) = ½(e^logvar − 1)
  return { mu: mu.mul(1), logvar: logvar.exp().sub(1).mul(0.5) };
}
