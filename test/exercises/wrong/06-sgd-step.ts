/** Planted wrong answer: the update is right, but the gradients are never cleared, so they pile up. */
import { noGrad, type Tensor } from "../../../src/index.ts";

export function sgdStep(params: readonly Tensor[], lr: number): void {
  noGrad(() => {
    for (const p of params) if (p.grad !== null) p.assign(p.sub(p.grad.mul(lr)));
  });
}
