/** Reference solution of exercises/06-sgd-step.ts. */
import { noGrad, type Tensor } from "../../src/index.ts";

export function sgdStep(params: readonly Tensor[], lr: number): void {
  noGrad(() => {
    for (const p of params) if (p.grad !== null) p.assign(p.sub(p.grad.mul(lr)));
  });
  for (const p of params) p.zeroGrad();
}
