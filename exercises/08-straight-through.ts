/**
 * Exercise 08-straight-through (chapter 8: stopping gradients).
 *
 * Binarize to ±1 with a straight-through estimator, as binarized networks do:
 *
 * - forward: +1 where x ≥ 0, −1 where x < 0 (a step, whose true derivative is 0 everywhere);
 * - backward: pass the gradient through unchanged where |x| ≤ 1, and stop it where |x| > 1
 *   (where making x larger in size cannot change the sign any more).
 *
 * That backward is the derivative of clamp(x, −1, 1). With detach it is one line: a term whose
 * gradient is the one you want, plus a detached correction that makes the value the one you want.
 * Useful: x.clamp(lo, hi), x.greaterEqual(0) (a mask of 1s and 0s), x.detach(), add, sub, mul.
 *
 * Grade it: npm run exercise -- 08-straight-through
 */
import type { Tensor } from "../src/index.ts";

export function signStraightThrough(x: Tensor): Tensor {
  throw new Error("not written yet");
}
