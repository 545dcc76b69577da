/**
 * Binary cross-entropy, the reconstruction term of a Bernoulli VAE:
 *   BCE(p, t) = −[t·ln p + (1 − t)·ln(1 − p)]   per element.
 */
import { isGradEnabled } from "../autograd/grad-mode.ts";
import { applyOp } from "../autograd/op.ts";
import { maximum } from "../autograd/ops/elementwise.ts";
import { Tensor } from "../autograd/tensor.ts";
import type { Shape, Storage } from "../kernels/backend.ts";
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
 * a finite loss, and the gradient divides by max(p(1 − p), 1e-12) rather than by 0. Those guards
 * are why it has a VJP of its own rather than the one its ops would compose (0 · 1/0 = NaN at p = 0).
 */
// d BCE/dp = (p − t) / (p(1 − p)), d BCE/dt = ln(1 − p) − ln p
export function binaryCrossEntropy(probs: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  checkTargets("binaryCrossEntropy", probs, target);
  const logP = () => maximum(probs.log(), -100);
  const log1mP = () => maximum(probs.neg().add(1).log(), -100);
  const loss = applyOp(
    "binaryCrossEntropy",
    [probs, target],
    () => target.mul(logP()).add(target.neg().add(1).mul(log1mP())).neg(),
    (g) => [
      () => g.mul(probs.sub(target)).div(maximum(probs.mul(probs.neg().add(1)), 1e-12)),
      () => g.mul(log1mP().sub(logP())),
    ],
  );
  return reduce(loss, reduction);
}

/**
 * BCE on logits ℓ (before the sigmoid), in the form that never overflows:
 *   BCE(σ(ℓ), t) = softplus(ℓ) − t·ℓ,   softplus(ℓ) = ln(1 + e^ℓ)
 * Saturated logits (±1e4) give finite losses and gradients, where going through σ(ℓ) and log
 * would give log 0 = −∞. Summed (or averaged) it is one op with its gradient written out, so that
 * a backend can fuse each direction into one pass over memory (Backend.bceWithLogitsSum/Grad: the
 * VAE's loss covers 128×784 pixels a step); the composed ops give the same numbers where it cannot.
 */
// d/dℓ [softplus(ℓ) − t·ℓ] = σ(ℓ) − t, d/dt = −ℓ
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  reduction: Reduction = "mean",
): Tensor {
  checkTargets("binaryCrossEntropyWithLogits", logits, target);
  if (reduction === "none") return logits.softplus().sub(target.mul(logits));
  const { backend } = logits;
  /** A backend's fused kernel as a tensor of `shape`, or null where it has none or declines. */
  const fused = (storage: Storage | undefined, shape: Shape) =>
    storage === undefined ? null : new Tensor(storage, shape, backend);
  const sum = applyOp(
    "binaryCrossEntropyWithLogits",
    [logits, target],
    () =>
      fused(backend.bceWithLogitsSum?.(logits.storage, target.storage), []) ??
      logits.softplus().sub(target.mul(logits)).sum(),
    (g) => [
      // Fused, unless this backward is recorded for a higher order.
      () =>
        (isGradEnabled()
          ? null
          : fused(backend.bceWithLogitsGrad?.(logits.storage, target.storage, g.storage), logits.shape)) ??
        logits.sigmoid().sub(target).mul(g),
      () => logits.neg().mul(g),
    ],
  );
  return reduction === "sum" ? sum : sum.div(logits.size);
}
