/** Reference solution of exercises/07-bce-with-logits.ts. */
import type { Tensor } from "../../src/index.ts";

export function bceWithLogits(logits: Tensor, targets: Tensor): Tensor {
  // −[t log σ(ℓ) + (1 − t) log(1 − σ(ℓ))] = softplus(ℓ) − t·ℓ, which never rounds 1 − σ(ℓ)
  return logits.softplus().sub(targets.mul(logits)).mean();
}
