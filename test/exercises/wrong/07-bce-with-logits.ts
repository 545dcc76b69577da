/** Planted wrong answer: the textbook form through σ(ℓ) and log, which gives log 0 at ℓ = ±20 in float32. */
import type { Tensor } from "../../../src/index.ts";

export function bceWithLogits(logits: Tensor, targets: Tensor): Tensor {
  const p = logits.sigmoid();
  return targets
    .mul(p.log())
    .add(targets.neg().add(1).mul(p.neg().add(1).log()))
    .neg()
    .mean();
}
