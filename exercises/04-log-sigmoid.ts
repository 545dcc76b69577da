/**
 * Exercise 04-log-sigmoid (chapter 4: your own op).
 *
 * log σ(x) = −log(1 + e^−x), as an op of your own (applyOp, named "logSigmoid"), that is right in
 * float32 where the obvious x.sigmoid().log() is not: at x = 30, σ(30) = 1 − 9.4e-14 rounds to 1
 * in float32 and its log to 0, where the answer is −9.4e-14; at x = −100 or beyond, e^−x overflows.
 * Write the forward with ops that never round 1 − tiny (elbo's softplus is stable:
 * softplus(x) = log(1 + eˣ), computed as max(x, 0) + log1p(e^−|x|)), and the VJP by hand:
 *
 *   d log σ(x)/dx = 1 − σ(x) = σ(−x)
 *
 * made of ops, so that its own derivative (gradgradcheck) works too.
 *
 * Grade it: npm run exercise -- 04-log-sigmoid
 */
import { applyOp, type Tensor } from "../src/index.ts";

export function logSigmoid(x: Tensor): Tensor {
  throw new Error("not written yet");
}
