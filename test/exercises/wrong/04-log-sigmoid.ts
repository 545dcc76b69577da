/** Planted wrong answer: the obvious forward, log(sigmoid(x)), which rounds to 0 at x = 30 in float32. */
import { applyOp, type Tensor } from "../../../src/index.ts";

export function logSigmoid(x: Tensor): Tensor {
  return applyOp(
    "logSigmoid",
    [x],
    () => x.sigmoid().log(),
    (g) => [() => g.mul(x.neg().sigmoid())],
  );
}
