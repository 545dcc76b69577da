/** Planted wrong answer: ∇f ⊙ v, the gradient scaled by v, which is not a second derivative at all. */
import { grad, type Tensor } from "../../../src/index.ts";

export function hessianVectorProduct(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  return grad(f)(x).mul(v);
}
