/**
 * Exercise 06-sgd-step (chapter 6: a network from scratch).
 *
 * One step of plain gradient descent on `params` (leaves whose .grad backward has filled):
 *
 *   p ← p − lr · p.grad      for every p with a gradient (skip one whose .grad is null)
 *
 * done right: change p's values in place with p.assign(…), inside noGrad (the update is not part of
 * the model, and elbo refuses an assign to a tensor that requires grad outside it), so that p stays
 * the same leaf; then clear each gradient (p.zeroGrad()), because the next backward adds into .grad.
 *
 * Grade it: npm run exercise -- 06-sgd-step
 */
import { noGrad, type Tensor } from "../src/index.ts";

export function sgdStep(params: readonly Tensor[], lr: number): void {
  throw new Error("not written yet");
}
