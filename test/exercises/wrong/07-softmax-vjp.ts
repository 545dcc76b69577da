/** Planted wrong answer: only the Jacobian's diagonal, g ⊙ s ⊙ (1 − s), as if softmax were elementwise. */
import { applyOp, type Tensor } from "../../../src/index.ts";

export function softmax(x: Tensor): Tensor {
  return applyOp(
    "softmax",
    [x],
    () => {
      const e = x.sub(x.max(-1, true)).exp();
      return e.div(e.sum(-1, true));
    },
    (g, s) => [() => g.mul(s).mul(s.neg().add(1))],
  );
}
