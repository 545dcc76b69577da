/**
 * Exercise 10-scoped-step (chapter 10: under the hood).
 *
 * One training step of a linear regression, y ≈ model.forward(x), with the mean squared error:
 * forward, zero the gradients, backward, optimizer step; return the loss as a number. And leave
 * nothing behind: on the wasm and gpu backends the garbage collector never sees a tensor's memory,
 * so every tensor the step makes (the forward's intermediates, the loss, the gradients, the
 * optimizer's scratch) must be freed when it ends. `scoped(fn, keep)` runs fn and disposes every
 * tensor made inside except those `keep` returns; read the loss's value inside it.
 *
 * The grader counts the backend's live buffers before and after each step: they must not grow.
 *
 * Grade it: npm run exercise -- 10-scoped-step
 */
import { type Linear, type SGD, scoped, type Tensor } from "../src/index.ts";

export function trainStep(model: Linear, optimizer: SGD, x: Tensor, y: Tensor): number {
  throw new Error("not written yet");
}
