/**
 * Exercise 05-hvp (chapter 5: Jacobians and the two modes).
 *
 * The Hessian-vector product H·v of a scalar function f at x, without forming H, from `grad` alone:
 * H·v is the gradient, with respect to x, of the scalar ⟨∇f(x), v⟩ (v held fixed). grad(f) gives
 * ∇f as a function you can differentiate again (grad of grad works because every VJP is made of
 * ops). The result has x's shape. Don't call hvp or hessian: they are the answer.
 *
 * Grade it: npm run exercise -- 05-hvp
 */
import { grad, type Tensor } from "../src/index.ts";

export function hessianVectorProduct(f: (x: Tensor) => Tensor, x: Tensor, v: Tensor): Tensor {
  throw new Error("not written yet");
}
