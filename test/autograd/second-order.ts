/**
 * Second derivatives against finite differences of first derivatives, as PyTorch's gradgradcheck:
 * gradcheck of (x…, u) ↦ Σᵢ wᵢ ⊙ ∂(Σ u ⊙ f(x…))/∂xᵢ, the first derivatives taken with
 * createGraph. The upstream gradient u is an input too, so a VJP that is not differentiable in g
 * (or not linear in it) is caught even for ops whose second derivative in x is zero.
 */
import { enableGrad, gradients, noGrad } from "../../src/autograd/engine.ts";
import { Generator } from "../../src/autograd/random.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { expectGradOk, f64 } from "./helpers.ts";

function randomLike(shape: readonly number[], seed: number): Tensor {
  const g = new Generator(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return f64(
    Array.from({ length: size }, () => g.normal()),
    shape,
  );
}

export function expectGradGradOk(fn: (...inputs: Tensor[]) => Tensor, inputs: readonly Tensor[]): void {
  const outShape = noGrad(() => fn(...inputs)).shape;
  const weights = inputs.map((x, i) => randomLike(x.shape, 100 + i));
  const firstDerivatives = (...args: Tensor[]): Tensor =>
    enableGrad(() => {
      // During finite differences gradcheck hands plain tensors: make leaves to differentiate once.
      const leaves = args.map((t) => {
        if (t.requiresGrad) return t;
        const leaf = t.detach();
        leaf.requiresGrad = true;
        return leaf;
      });
      const xs = leaves.slice(0, -1);
      const u = leaves[leaves.length - 1];
      const grads = gradients(
        fn(...xs)
          .mul(u)
          .sum(),
        xs,
        undefined,
        { createGraph: true },
      );
      return grads.reduce<Tensor>(
        (total, g, i) => (g === null ? total : total.add(g.mul(weights[i]).sum())),
        u.mul(0).sum(),
      );
    });
  expectGradOk(firstDerivatives, [...inputs, randomLike(outShape, 7)]);
}
