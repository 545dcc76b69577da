/**
 * evaluateElbo and evaluateIwae on a trained-looking (randomly initialised) model, against the same
 * figures computed here image by image in float64 from the noise the generator gives: one stream of
 * normals, drawn in row order, whatever the batches. And the batches themselves: IWAE holds at most
 * rowsPerBatch rows (k per image) at once, and only the images asked for are evaluated.
 */
import { describe, expect, it } from "vitest";
import { randn } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/engine.ts";
import { Generator } from "../../src/autograd/random.ts";
import { fromTypedArray, type Tensor } from "../../src/autograd/tensor.ts";
import { evaluateElbo, evaluateIwae } from "../../src/vae/evaluate.ts";
import { BernoulliVAE } from "../../src/vae/model.ts";
import { tinyDataset } from "./helpers.ts";

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
