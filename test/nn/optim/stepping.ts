/** One parameter stepped by hand through an optimizer, for the update rules' tests. */
import { tensor } from "../../../src/autograd/create.ts";
import type { Tensor } from "../../../src/autograd/tensor.ts";

/** Three steps' gradients for a parameter of three elements. */
export const gradients = [
  [0.5, -1, 0],
  [0.1, 0.3, 2],
  [-0.2, 0.4, -1],
];

/** A float64 parameter of `values`. */
export function param(values: number[]): Tensor {
  return tensor(Float64Array.from(values), [values.length], { requiresGrad: true });
}

/** Take one optimizer step with the given gradient. */
export function stepWith(opt: { step(): void }, p: Tensor, g: number[]): void {
  p.grad = tensor(Float64Array.from(g), [g.length]);
  opt.step();
}
