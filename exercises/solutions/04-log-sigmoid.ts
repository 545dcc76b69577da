/** Reference solution of exercises/04-log-sigmoid.ts. */
import { applyOp, type Tensor } from "../../src/index.ts";

export function logSigmoid(x: Tensor): Tensor {
  return applyOp(
    "logSigmoid",
    [x],
    () => x.neg().softplus().neg(), // log σ(x) = −softplus(−x)
    (g) => [() => g.mul(x.neg().sigmoid())], // d log σ(x)/dx = σ(−x)
  );
}
