/**
 * Evaluating a trained VAE on held-out images:
 * - the negative ELBO per image (one sample of z per image), the number training minimises;
 * - the importance-weighted bound of Burda et al. (IWAE), a tighter estimate of log p(x):
 *     log p(x) ≈ log (1/k) Σᵢ p(x|zᵢ) p(zᵢ) / q(zᵢ|x),   zᵢ ~ q(z|x)
 *   computed in log space with logsumexp, so that the tiny weights do not underflow. It is a
 *   lower bound that rises towards log p(x) as k grows.
 * On continuous (non-binarized) pixels p(x|z) is not a normalised density, so these figures
 * compare runs of this model with each other, not with published binarized-MNIST results.
 */
import type { Generator } from "../autograd/random.ts";
import { valuesOf } from "../autograd/scope.ts";
import { fromTypedArray } from "../autograd/tensor.ts";
import { type Dataset, gatherImages } from "./dataset.ts";
import type { BernoulliVAE } from "./model.ts";
import { reparameterize, standardNormalLike } from "./sampler.ts";

export interface ElboEvaluation {
  /** Average −ELBO per image, and its two parts. */
  loss: number;
  bce: number;
  kl: number;
  images: number;
}

export interface IwaeEvaluation {
  /** Mean over images of the importance-weighted estimate of log p(x), in nats. */
  logLikelihood: number;
  /**
   * Standard error of that mean (the spread across images / √n); NaN for one image, whose spread
   * cannot be measured (as PyTorch's std of one number).
   */
  standardError: number;
  k: number;
  images: number;
}

function range(start: number, end: number): Int32Array {
  return Int32Array.from({ length: end - start }, (_, i) => start + i);
}

/** Called after every batch and awaited: a page pauses here, a program stops by throwing. */
export type OnBatch = () => void | Promise<void>;

/** Average −ELBO per image over all images of `data`. */
export async function evaluateElbo(
  model: BernoulliVAE,
  data: Dataset,
  options: { batchSize?: number; generator: Generator; onBatch?: OnBatch },
): Promise<ElboEvaluation> {
  const batchSize = options.batchSize ?? 1000;
  // A batch of 0 would never advance: the loop would run for ever.
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new Error(`evaluateElbo: batchSize must be a positive integer, got ${batchSize}`);
  const pixels = data.rows * data.cols;
  let loss = 0;
  let bce = 0;
  let kl = 0;
  model.eval();
  for (let start = 0; start < data.count; start += batchSize) {
    const indices = range(start, Math.min(start + batchSize, data.count));
    const values = await valuesOf(() => {
      const x = fromTypedArray(gatherImages(data, indices), [indices.length, pixels]);
      const out = model.forward(x, { generator: options.generator });
      return [out.loss, out.bce, out.kl] as const;
    });
    loss += values[0][0];
    bce += values[1][0];
    kl += values[2][0];
    await options.onBatch?.();
  }
  return { loss: loss / data.count, bce: bce / data.count, kl: kl / data.count, images: data.count };
}

/**
 * The IWAE estimate of log p(x) with `k` samples per image, on the first `images` images.
 * Images are processed a few at a time, each repeated k times, so one batch holds chunk·k rows.
 */
export async function evaluateIwae(
  model: BernoulliVAE,
  data: Dataset,
  options: { k: number; images: number; generator: Generator; rowsPerBatch?: number; onBatch?: OnBatch },
): Promise<IwaeEvaluation> {
  const { k } = options;
  for (const [name, value] of Object.entries({
    k,
    images: options.images,
    rowsPerBatch: options.rowsPerBatch ?? 1,
  })) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new Error(`evaluateIwae: ${name} must be a positive integer, got ${value}`);
  }
  const n = Math.min(options.images, data.count);
  const pixels = data.rows * data.cols;
  const chunk = Math.max(1, Math.floor((options.rowsPerBatch ?? 5000) / k));
  const estimates: number[] = [];
  model.eval();
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    const [logPx] = await valuesOf(() => {
      const x = fromTypedArray(gatherImages(data, range(start, start + count)), [count, pixels]);
      const { mu, logvar } = model.encode(x);
      // Row r of the repeated batch is image ⌊r/k⌋, so the k samples of an image sit together.
      const repeat = Int32Array.from({ length: count * k }, (_, r) => Math.floor(r / k));
      const muK = mu.gatherRows(repeat);
      const logvarK = logvar.gatherRows(repeat);
      const xK = x.gatherRows(repeat);
      const eps = standardNormalLike(muK, options.generator);
      const z = reparameterize(muK, logvarK, eps);
      const logits = model.decodeLogits(z);
      // log p(x|z) = −BCE;  log p(z) = −½(‖z‖² + d·log 2π);  log q(z|x) = −½(‖ε‖² + Σ logvar + d·log 2π).
      // Their d·log 2π terms cancel in log p(z) − log q(z|x) = −½(‖z‖² − ‖ε‖² − Σ logvar).
      const logPxGivenZ = logits.softplus().sub(xK.mul(logits)).sum(1).neg();
      const logPzOverQz = z.mul(z).sub(eps.mul(eps)).sub(logvarK).sum(1).mul(-0.5);
      const logW = logPxGivenZ.add(logPzOverQz).reshape([count, k]);
      return [logW.logsumexp(1).sub(Math.log(k))] as const;
    });
    for (const v of logPx) estimates.push(v);
    await options.onBatch?.();
  }
  const mean = estimates.reduce((s, v) => s + v, 0) / estimates.length;
  const variance =
    estimates.length > 1
      ? estimates.reduce((s, v) => s + (v - mean) ** 2, 0) / (estimates.length - 1)
      : Number.NaN;
  return {
    logLikelihood: mean,
    standardError: Math.sqrt(variance / estimates.length),
    k,
    images: estimates.length,
  };
}
