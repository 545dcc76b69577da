/**
 * The VAE's loss, the negative evidence lower bound, for a Bernoulli decoder and a standard normal
 * prior (Kingma & Welling 2014, Appendix B):
 *   −ELBO(x) = BCE(decoder(z), x) + KL(q(z|x) ‖ N(0, I))
 *   KL       = −½ Σ (1 + logvar − μ² − exp(logvar))
 * Both terms are summed over pixels/latents and over the batch, as the reference tutorial does;
 * divide by the batch size for nats per image.
 */
import type { Tensor } from "../autograd/tensor.ts";
import { binaryCrossEntropyWithLogits } from "../nn/losses.ts";

export interface ElboTerms {
  /** BCE + KL, summed over the batch. */
  loss: Tensor;
  /** Reconstruction term: −log p(x|z) under a Bernoulli decoder, summed. */
  bce: Tensor;
  /** KL(q(z|x) ‖ p(z)), in closed form for two Gaussians, summed. */
  kl: Tensor;
}

/** KL(N(μ, σ²) ‖ N(0, 1)) summed over all entries: −½ Σ (1 + logvar − μ² − e^logvar). */
export function gaussianKl(mu: Tensor, logvar: Tensor): Tensor {
  return logvar.add(1).sub(mu.mul(mu)).sub(logvar.exp()).sum().mul(-0.5);
}

/** The negative ELBO of a batch, from the decoder's logits (the stable BCE form) and the encoder's outputs. */
export function negativeElbo(logits: Tensor, x: Tensor, mu: Tensor, logvar: Tensor): ElboTerms {
  const bce = binaryCrossEntropyWithLogits(logits, x, "sum");
  const kl = gaussianKl(mu, logvar);
  const loss = bce.add(kl);
  [bce.name, kl.name, loss.name] = ["BCE", "KL", "−ELBO"];
  return { loss, bce, kl };
}
