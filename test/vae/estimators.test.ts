/**
 * The VAE's estimators against closed forms, so that a wrong estimator cannot pass by luck.
 *
 * The trick: a BernoulliVAE whose weights are all zero has μ = b_μ and logvar = b_σ for every image
 * (q(z|x) = N(b_μ, e^b_σ)), and decoder logits b₄ whatever z is. Then p(x|z) = C(x) does not
 * depend on z, so
 *   log p(x) = C(x) = Σⱼ xⱼ·b₄ⱼ − softplus(b₄ⱼ)                          exactly,
 *   ELBO(x)  = C(x) − KL(q ‖ N(0, I)),   KL = ½ Σ (σ² + μ² − 1 − log σ²),
 *   log wᵢ   = C(x) + log p(zᵢ) − log q(zᵢ|x),
 * and where q is the prior itself (μ = 0, logvar = 0) every weight is p(x): the importance-weighted
 * estimate is log p(x) for every k, with no −log k left over. Each sampled figure is checked within
 * four of its standard errors, from a fixed seed, so the checks are exact repeats, not flaky.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { Generator } from "../../src/autograd/random.ts";
import type { Dataset } from "../../src/train-mnist/data.ts";
import { evaluateElbo, evaluateIwae } from "../../src/vae/evaluate.ts";
import { BernoulliVAE } from "../../src/vae/model.ts";
import { standardNormalLike } from "../../src/vae/sampler.ts";

const side = 4;
const pixels = side * side;
const latent = 3;

/** A VAE with zero weights: q(z|x) = N(mu, e^logvar) for every x, and logits `decoderBias` for every z. */
function fixedVae(mu: number[], logvar: number[], decoderBias: number[]): BernoulliVAE {
  const vae = new BernoulliVAE(
    { inputDim: pixels, latentDim: latent, encUnits: 5, decUnits: 6 },
    { generator: new Generator(0) },
  );
  noGrad(() => {
    for (const [, p] of vae.namedParameters()) p.assign(tensor(new Float32Array(p.size), p.shape));
    vae.fcMu.bias!.assign(tensor(Float32Array.from(mu), [latent]));
    vae.fcLogvar.bias!.assign(tensor(Float32Array.from(logvar), [latent]));
    vae.fc4.bias!.assign(tensor(Float32Array.from(decoderBias), [pixels]));
  });
  return vae;
}

/** `count` images: either copies of one, or each its own. */
function dataset(count: number, image: (i: number) => number[]): Dataset {
  const images = new Float32Array(count * pixels);
  for (let i = 0; i < count; i++) images.set(image(i), i * pixels);
  return { images, labels: new Uint8Array(count), count, rows: side, cols: side };
}

const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
/** log p(x|z) of a decoder that says `bias` whatever z is, in float64. */
const logLikelihood = (x: number[], bias: number[]) =>
  x.reduce((s, xj, j) => s + xj * bias[j] - softplus(bias[j]), 0);
const kl = (mu: number[], logvar: number[]) =>
  mu.reduce((s, m, d) => s + 0.5 * (Math.exp(logvar[d]) + m * m - 1 - logvar[d]), 0);

const bias = Array.from({ length: pixels }, (_, j) => Math.fround(Math.sin(j + 1) * 2));
const pixel = (i: number, j: number) => Math.fround((((i * 7 + j * 3) % 11) + 0.5) / 11);
const distinct = (i: number) => Array.from({ length: pixels }, (_, j) => pixel(i, j));

describe("IWAE", () => {
  it("gives log p(x) for every k, to float32 rounding, when q(z|x) is the exact posterior", async () => {
    const data = dataset(12, distinct);
    const vae = fixedVae([0, 0, 0], [0, 0, 0], bias);
    const exact = Array.from({ length: 12 }, (_, i) => logLikelihood(distinct(i), bias));
    const mean = exact.reduce((s, v) => s + v, 0) / exact.length;
    const sd = Math.sqrt(exact.reduce((s, v) => s + (v - mean) ** 2, 0) / (exact.length - 1));
    for (const k of [1, 2, 7, 50]) {
      const iwae = await evaluateIwae(vae, data, { k, images: 12, generator: new Generator(3) });
      expect(iwae.k).toBe(k);
      expect(iwae.images).toBe(12);
      // A missing −log k would be off by log 2 ≈ 0.69 or more; float32 sums of 16 terms are off by ~1e-5.
      expect(Math.abs(iwae.logLikelihood - mean), `k = ${k}`).toBeLessThan(1e-3);
      // Every image's estimate is exact, so the standard error is the spread of the exact values.
      expect(Math.abs(iwae.standardError - sd / Math.sqrt(12)), `k = ${k}`).toBeLessThan(1e-3);
    }
  });

  it("with k = 1 estimates the ELBO, C − KL, and its standard error is that of log p(z) − log q(z|x)", async () => {
    const mu = [0.5, -1, 0.2];
    const logvar = [-0.5, 0.3, 0];
    const n = 4000;
    const x = distinct(0);
    const vae = fixedVae(mu, logvar, bias);
    const iwae = await evaluateIwae(
      vae,
      dataset(n, () => x),
      { k: 1, images: n, generator: new Generator(9) },
    );
    const elbo = logLikelihood(x, bias) - kl(mu, logvar);
    // log p(z) − log q(z|x) with z = μ + σε: per latent −½μ² − μσε + ½(1 − σ²)ε² + ½logvar,
    // whose variance is μ²σ² + ½(1 − σ²)² (ε and ε² are uncorrelated; Var ε² = 2).
    const sd = Math.sqrt(
      mu.reduce((s, m, d) => s + m * m * Math.exp(logvar[d]) + 0.5 * (1 - Math.exp(logvar[d])) ** 2, 0),
    );
    expect(Math.abs(iwae.standardError / (sd / Math.sqrt(n)) - 1)).toBeLessThan(0.1);
    expect(Math.abs(iwae.logLikelihood - elbo)).toBeLessThan(4 * (sd / Math.sqrt(n)));
  });

  it("rises with k from the ELBO towards log p(x) when q(z|x) is not the posterior", async () => {
    const mu = [0.5, -1, 0.2];
    const logvar = [-0.5, 0.3, 0];
    const x = distinct(1);
    const vae = fixedVae(mu, logvar, bias);
    const data = dataset(200, () => x);
    const at = async (k: number) =>
      (await evaluateIwae(vae, data, { k, images: 200, generator: new Generator(k) })).logLikelihood;
    const [k1, k10, k100] = [await at(1), await at(10), await at(100)];
    const logPx = logLikelihood(x, bias);
    const elbo = logPx - kl(mu, logvar);
    expect(k1).toBeLessThan(k10);
    expect(k10).toBeLessThan(k100);
    expect(k1).toBeGreaterThan(elbo - 0.2);
    // KL here is about 0.9 nats; with 100 samples the bound is within a few hundredths of log p(x).
    expect(k100).toBeLessThan(logPx + 0.01);
    expect(logPx - k100).toBeLessThan(0.1);
  });
});

describe("evaluateElbo", () => {
  it("is −C + KL per image, its BCE part −C and its KL part the closed form", async () => {
    const mu = [0.3, 0, -2];
    const logvar = [1, -1, 0.5];
    const data = dataset(30, distinct);
    const vae = fixedVae(mu, logvar, bias);
    const got = await evaluateElbo(vae, data, { batchSize: 7, generator: new Generator(1) });
    const c =
      Array.from({ length: 30 }, (_, i) => logLikelihood(distinct(i), bias)).reduce((s, v) => s + v, 0) / 30;
    expect(got.images).toBe(30);
    expect(Math.abs(got.bce + c)).toBeLessThan(1e-3);
    expect(Math.abs(got.kl - kl(mu, logvar))).toBeLessThan(1e-5);
    expect(Math.abs(got.loss - (-c + kl(mu, logvar)))).toBeLessThan(1e-3);
  });
});

describe("the sampler", () => {
  /** Sample mean and variance of each column of an n×d matrix. */
  function moments(values: ArrayLike<number>, n: number, d: number): { mean: number[]; variance: number[] } {
    const mean = Array.from({ length: d }, (_, j) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += values[i * d + j];
      return s / n;
    });
    const variance = mean.map((m, j) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (values[i * d + j] - m) ** 2;
      return s / (n - 1);
    });
    return { mean, variance };
  }

  it("ε is standard normal: mean 0 and variance 1 within four standard errors", () => {
    const n = 20000;
    const like = tensor(new Float64Array(n * 2), [n, 2]);
    const eps = standardNormalLike(like, new Generator(4));
    expect(eps.shape).toEqual([n, 2]);
    expect(eps.dtype).toBe("float64");
    const { mean, variance } = moments(eps.dataSync(), n, 2);
    for (let j = 0; j < 2; j++) {
      expect(Math.abs(mean[j])).toBeLessThan(4 / Math.sqrt(n));
      expect(Math.abs(variance[j] - 1)).toBeLessThan(4 * Math.sqrt(2 / (n - 1)));
    }
  });

  it("the model's z has mean μ and variance e^logvar per latent, within four standard errors", () => {
    const mu = [1.5, -0.5, 0];
    const logvar = [Math.log(4), Math.log(0.25), 0];
    const n = 20000;
    const vae = fixedVae(mu, logvar, bias);
    const x = tensor(new Float32Array(n * pixels), [n, pixels]);
    const { z } = noGrad(() => vae.forward(x, { generator: new Generator(6) }));
    const { mean, variance } = moments(z.dataSync(), n, latent);
    for (let d = 0; d < latent; d++) {
      const s2 = Math.exp(logvar[d]);
      // Standard errors: σ/√n for the mean, σ²·√(2/(n−1)) for the sample variance of a normal.
      expect(Math.abs(mean[d] - mu[d]), `latent ${d}`).toBeLessThan(4 * Math.sqrt(s2 / n));
      expect(Math.abs(variance[d] - s2), `latent ${d}`).toBeLessThan(4 * s2 * Math.sqrt(2 / (n - 1)));
    }
  });
});
