/** Reference solution of exercises/07-softmax-vjp.ts. */
import { applyOp, type Tensor } from "../../src/index.ts";

export function softmax(x: Tensor): Tensor {
  return applyOp(
    "softmax",
    [x],
    () => {
      const e = x.sub(x.max(-1, true)).exp();
      return e.div(e.sum(-1, true));
    },
    // d softmax/dx: gᵀ(diag(s) − s·sᵀ) = s ⊙ (g − Σ g ⊙ s)
    (g, s) => [() => s.mul(g.sub(g.mul(s).sum(-1, true)))],
  );
}
