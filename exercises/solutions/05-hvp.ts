/** Reference solution of exercises/05-hvp.ts. */
import { grad, type Tensor } from "../../src/index.ts";

export function hessianVectorProduct(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  // H·v = ∇x ⟨∇f(x), v⟩: reverse over reverse
  return grad((y: Tensor) => grad(f)(y).mul(v).sum())(x);
}
