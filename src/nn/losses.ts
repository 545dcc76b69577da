/**
 * Binary cross-entropy, the reconstruction term of a Bernoulli VAE:
 *   BCE(p, t) = −[t·ln p + (1 − t)·ln(1 − p)]   per element.
 */
import { noGrad } from "../autograd/engine.ts";
import { maximum } from "../autograd/ops/elementwise.ts";
import { Tensor } from "../autograd/tensor.ts";
import { formatShape, sameShape } from "../kernels/shape.ts";

export type Reduction = "sum" | "mean" | "none";

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === "none") return loss;
  return reduction === "sum" ? loss.sum() : loss.mean();
}

function checkTargets(op: string, input: Tensor, target: Tensor): void {
  if (!sameShape(input.shape, target.shape)) {
    throw new Error(
      `${op}: input ${formatShape(input.shape)} and target ${formatShape(target.shape)} must have the same shape`,
    );
  }
}

/**
 * BCE on probabilities, with PyTorch's guards: each log is clamped at −100, so p = 0 or 1 gives
 * a finite loss, and the backward divides by max(p(1 − p), 1e-12).
 */
// d BCE/dp = (p − t) / (p(1 − p))
export function binaryCrossEntropy(probs: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  checkTargets("binaryCrossEntropy", probs, target);
  const elementwise = noGrad(() => {
    const logP = maximum(probs.log(), -100);
    const log1mP = maximum(probs.neg().add(1).log(), -100);
    return target.mul(logP).add(target.neg().add(1).mul(log1mP)).neg();
  });
  // The loss gets storage of its own (every tensor owns its storage); the scratch one is freed.
  const storage = probs.backend.cast(elementwise.storage, probs.dtype);
  elementwise.dispose();
  const loss = Tensor.fromOp("binaryCrossEntropy", storage, probs.shape, [probs, target], (g, needs) => {
    const denominator = maximum(probs.mul(probs.neg().add(1)), 1e-12);
    return [needs[0] ? g.mul(probs.sub(target)).div(denominator) : null, null];
  });
  return reduce(loss, reduction);
}

/**
 * BCE on logits ℓ (before the sigmoid), in the form that never overflows:
 *   BCE(σ(ℓ), t) = softplus(ℓ) − t·ℓ,   softplus(ℓ) = ln(1 + e^ℓ)
 * Its gradient, σ(ℓ) − t, comes out of the ops' own backward passes. Saturated logits (±1e4)
 * give finite losses and gradients, where going through σ(ℓ) and log would give log 0 = −∞.
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  reduction: Reduction = "mean",
): Tensor {
  checkTargets("binaryCrossEntropyWithLogits", logits, target);
  return reduce(logits.softplus().sub(target.mul(logits)), reduction);
}
