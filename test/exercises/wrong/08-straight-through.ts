/** Planted wrong answer: the plain straight-through identity, which never stops the gradient where |x| > 1. */
import type { Tensor } from "../../../src/index.ts";

export function signStraightThrough(x: Tensor): Tensor {
  const sign = x.greaterEqual(0).mul(2).sub(1);
  return x.add(sign.sub(x).detach());
}
