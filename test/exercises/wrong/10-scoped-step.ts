/** Planted wrong answer: a correct step without a scope, so every step's tensors wait for the collector. */
import type { Linear, SGD, Tensor } from "../../../src/index.ts";

export function trainStep(model: Linear, optimizer: SGD, x: Tensor, y: Tensor): number {
  const loss = model.forward(x).sub(y).pow(2).mean();
  optimizer.zeroGrad();
  loss.backward();
  optimizer.step();
  return loss.item();
}
