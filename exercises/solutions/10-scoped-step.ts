/** Reference solution of exercises/10-scoped-step.ts. */
import { type Linear, type SGD, scoped, type Tensor } from "../../src/index.ts";

export function trainStep(model: Linear, optimizer: SGD, x: Tensor, y: Tensor): number {
  return scoped(
    () => {
      const loss = model.forward(x).sub(y).pow(2).mean();
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      return loss.item(); // read inside the scope: the loss tensor dies with it
    },
    () => [],
  );
}
