/**
 * evaluateElbo and evaluateIwae. First on a randomly initialised model, against the same figures
 * computed here image by image in float64 from the noise the generator gives: one stream of
 * normals, drawn in row order, whatever the batches; IWAE holds at most rowsPerBatch rows (k per
 * image) at once, and only the images asked for are evaluated. Then against closed forms, so that a
 * wrong estimator cannot pass by luck.
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
 * Last, evaluation runs the model in eval mode, as PyTorch's model.eval(), even when training left
 * it in train mode.
 */
import { describe, expect, it } from "vitest";
import { randn } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { Generator } from "../../src/autograd/random.ts";
import { fromTypedArray, type Tensor } from "../../src/autograd/tensor.ts";
import type { Dataset } from "../../src/train-mnist/data.ts";
import { evaluateElbo, evaluateIwae } from "../../src/vae/evaluate.ts";
import { BernoulliVAE } from "../../src/vae/model.ts";
import { pictureValues, startRun } from "../../src/vae/run.ts";
import { fixedVae } from "../fixtures/fixed-vae.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "../fixtures/tiny-run.ts";

const config = { inputDim: 4, latentDim: 3, encUnits: 5, decUnits: 5 };
const model = () => new BernoulliVAE(config, { generator: new Generator(7) });
const data = tinyDataset(8);

const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
const logSumExp = (v: number[]) => {
  const top = Math.max(...v);
  return top + Math.log(v.reduce((s, x) => s + Math.exp(x - top), 0));
};
const rowsOf = (t: Tensor) => {
  const [n, d] = t.shape;
  const v = t.dataSync();
  return Array.from({ length: n }, (_, i) => Array.from(v.subarray(i * d, (i + 1) * d)));
};

/** Per image, log (1/k) Σ p(x|zᵢ) p(zᵢ)/q(zᵢ|x) in float64, with ε the next n·k·latent normals of `seed`. */
function iwaeByHand(vae: BernoulliVAE, n: number, k: number, seed: number): number[] {
  const d = config.latentDim;
  const x = fromTypedArray(data.images.slice(0, n * 4), [n, 4]);
  const { mu, logvar } = noGrad(() => vae.encode(x));
  const [mus, logvars, images] = [rowsOf(mu), rowsOf(logvar), rowsOf(x)];
  const eps = rowsOf(randn([n * k, d], { generator: new Generator(seed) }));
  const z = eps.map((e, r) =>
    e.map((ej, j) => mus[Math.floor(r / k)][j] + Math.exp(logvars[Math.floor(r / k)][j] / 2) * ej),
  );
  // The decoder is the model's own; everything after its logits is computed here.
  const logits = rowsOf(
    noGrad(() => vae.decodeLogits(fromTypedArray(Float32Array.from(z.flat()), [n * k, d]))),
  );
  const normal = (v: number[]) => -0.5 * v.reduce((s, t) => s + t * t + Math.log(2 * Math.PI), 0);
  return images.map((image, i) => {
    const logW = Array.from({ length: k }, (_, j) => {
      const r = i * k + j;
      const logPxGivenZ = image.reduce((s, xp, p) => s + xp * logits[r][p] - softplus(logits[r][p]), 0);
      const logQ = normal(eps[r]) - 0.5 * logvars[i].reduce((s, v) => s + v, 0);
      return logPxGivenZ + normal(z[r]) - logQ;
    });
    return logSumExp(logW) - Math.log(k);
  });
}

/** The row counts the decoder sees while `run` evaluates. */
async function decoderBatches(vae: BernoulliVAE, run: () => Promise<unknown>): Promise<number[]> {
  const seen: number[] = [];
  const decode = vae.decodeLogits.bind(vae);
  vae.decodeLogits = (z: Tensor) => {
    seen.push(z.shape[0]);
    return decode(z);
  };
  await run();
  return seen;
}

describe("evaluateElbo", () => {
  it("averages the model's −ELBO over every image with the generator's noise, however it is batched", async () => {
    const vae = model();
    const x = fromTypedArray(data.images, [data.count, 4]);
    const eps = randn([data.count, config.latentDim], { generator: new Generator(9) });
    const whole = noGrad(() => vae.forward(x, { eps }));
    const expected = [whole.loss, whole.bce, whole.kl].map((t) => t.item() / data.count);
    // The default batch (all 8 at once), batches that divide the count and one that does not.
    for (const batchSize of [undefined, 8, 4, 3, 1]) {
      const got = await evaluateElbo(vae, data, { batchSize, generator: new Generator(9) });
      expect(got.images).toBe(data.count);
      [got.loss, got.bce, got.kl].forEach((v, i) => {
        expect(Math.abs(v - expected[i]), `batch ${batchSize}, figure ${i}`).toBeLessThan(
          1e-5 * Math.abs(expected[i]) + 1e-6,
        );
      });
    }
    // Batches of batchSize images, the last one what is left, and no empty one.
    const batches = (batchSize: number) =>
      decoderBatches(vae, () => evaluateElbo(vae, data, { batchSize, generator: new Generator(9) }));
    expect(await batches(3)).toEqual([3, 3, 2]);
    expect(await batches(4)).toEqual([4, 4]);
    // Other noise, another figure: the noise is the generator's, not some other stream.
    const other = await evaluateElbo(vae, data, { generator: new Generator(10) });
    expect(Math.abs(other.bce - expected[1])).toBeGreaterThan(1e-3);
  });

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

describe("evaluateIwae", () => {
  it("is the mean and standard error of log (1/k) Σ wᵢ over the first `images` images", async () => {
    const vae = model();
    for (const [images, k] of [
      [5, 4],
      [8, 1],
    ]) {
      const perImage = iwaeByHand(vae, images, k, 11);
      const mean = perImage.reduce((s, v) => s + v, 0) / images;
      const sd = Math.sqrt(perImage.reduce((s, v) => s + (v - mean) ** 2, 0) / (images - 1));
      const got = await evaluateIwae(vae, data, { k, images, generator: new Generator(11), rowsPerBatch: 8 });
      expect([got.k, got.images]).toEqual([k, images]);
      expect(Math.abs(got.logLikelihood - mean), `${images} images, k = ${k}`).toBeLessThan(1e-4);
      expect(Math.abs(got.standardError - sd / Math.sqrt(images))).toBeLessThan(1e-4);
    }
    // One image: its estimate has no spread to measure.
    const one = await evaluateIwae(vae, data, { k: 3, images: 1, generator: new Generator(11) });
    expect(one.images).toBe(1);
    expect(Number.isFinite(one.logLikelihood)).toBe(true);
    expect(one.standardError).toBeNaN();
    // Asking for more images than there are evaluates all of them.
    const all = await evaluateIwae(vae, data, { k: 2, images: 20, generator: new Generator(11) });
    expect(all.images).toBe(data.count);
  });

  it("holds k rows per image and at most rowsPerBatch rows at once (one image when k is larger)", async () => {
    const vae = model();
    const batches = (k: number, images: number, rowsPerBatch: number) =>
      decoderBatches(vae, () =>
        evaluateIwae(vae, data, { k, images, rowsPerBatch, generator: new Generator(1) }),
      );
    // ⌊10/4⌋ = 2 images a batch: 8, 8 and the last image's 4 rows.
    expect(await batches(4, 5, 10)).toEqual([8, 8, 4]);
    // 6 images of 4 rows, 2 at a time: three full batches and no empty one.
    expect(await batches(4, 6, 8)).toEqual([8, 8, 8]);
    expect(await batches(4, 3, 3)).toEqual([4, 4, 4]);
  });

  it("gathers any number of images' estimates in one batch (no spread into push, which overflows the stack)", async () => {
    const many = tinyDataset(200_000);
    const got = await evaluateIwae(model(), many, {
      k: 1,
      images: many.count,
      rowsPerBatch: many.count,
      generator: new Generator(3),
    });
    expect(got.images).toBe(200_000);
    expect(Number.isFinite(got.logLikelihood)).toBe(true);
  }, 30_000);
});

/** 4×4-pixel images. */
const side = 4;
const pixels = side * side;

/** `count` images: either copies of one, or each its own. */
function dataset(count: number, image: (i: number) => number[]): Dataset {
  const images = new Float32Array(count * pixels);
  for (let i = 0; i < count; i++) images.set(image(i), i * pixels);
  return { images, labels: new Uint8Array(count), count, rows: side, cols: side };
}

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

/** The model's mode at every encode and decode while `work` runs, starting from train mode. */
async function modesSeen(model: BernoulliVAE, work: () => Promise<unknown>): Promise<boolean[]> {
  const seen: boolean[] = [];
  const encode = model.encode.bind(model);
  const decodeLogits = model.decodeLogits.bind(model);
  model.encode = (x) => {
    seen.push(model.training);
    return encode(x);
  };
  model.decodeLogits = (z) => {
    seen.push(model.training);
    return decodeLogits(z);
  };
  model.train();
  await work();
  return seen;
}

describe("evaluation is in eval mode", () => {
  const data = tinyDataset(6);
  it.each([
    [
      "evaluateElbo",
      (m: BernoulliVAE) => evaluateElbo(m, data, { batchSize: 4, generator: new Generator(1) }),
    ],
    [
      "evaluateIwae",
      (m: BernoulliVAE) =>
        evaluateIwae(m, data, { k: 3, images: 6, rowsPerBatch: 6, generator: new Generator(1) }),
    ],
  ])("%s: every forward pass", async (_, evaluate) => {
    const { model } = startRun(tinyConfig, tinyTraining());
    const seen = await modesSeen(model, () => evaluate(model));
    // Encoder and decoder, for each of at least two batches.
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen.every((training) => !training)).toBe(true);
  });

  it("pictureValues: the reconstructions, the samples and the latent means", async () => {
    const run = startRun(tinyConfig, tinyTraining());
    const seen = await modesSeen(run.model, () => pictureValues(run, data, new Generator(1)));
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.every((training) => !training)).toBe(true);
  });
});
