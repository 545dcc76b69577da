/** Planted wrong answer: the right KL, but the logvar gradient's sign flipped, ½(1 − e^logvar). */
import type { Tensor } from "../../../src/index.ts";

export function gaussianKl(mu: Tensor, logvar: Tensor): Tensor {
  return logvar.add(1).sub(mu.mul(mu)).sub(logvar.exp()).sum().mul(-0.5);
}

export function gaussianKlGradients(mu: Tensor, logvar: Tensor): { mu: Tensor; logvar: Tensor } {
  return { mu: mu.mul(1), logvar: logvar.exp().neg().add(1).mul(0.5) };
}
