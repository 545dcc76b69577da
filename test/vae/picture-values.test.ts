/**
 * What the report's pictures show, checked on the numbers they are drawn from (pictureValues):
 * the top row holds the test images themselves, the bottom row their reconstructions, which are
 * the decoder's picture of each image's mean code (so they differ from the originals, and do not
 * change with the sampling noise), and the samples are decoded from z ~ N(0, I) drawn from the
 * generator given.
 */
import { describe, expect, it } from "vitest";
import { randn } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { Generator } from "../../src/autograd/random.ts";
import { fromTypedArray } from "../../src/autograd/tensor.ts";
import type { Dataset } from "../../src/train-mnist/data.ts";
import { pictureValues, startRun } from "../../src/vae/run.ts";

const side = 5;
const pixels = side * side;
const count = 20;
const test: Dataset = {
  images: Float32Array.from({ length: count * pixels }, (_, i) => ((i * 37) % 101) / 100),
  labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
  count,
  rows: side,
  cols: side,
};
const config = { inputDim: pixels, latentDim: 3, encUnits: 8, decUnits: 8 };
const training = { epochs: 1, batchSize: 5, lr: 0.01, seed: 2, limit: null, dataDir: null };

describe("the report's picture values", () => {
  it("show the originals above their reconstructions from the mean code, and samples decoded from N(0, I)", async () => {
    const run = startRun(config, training);
    const shown = 16;
    const values = await pictureValues(run, test, new Generator(5));
    expect(values.shown).toBe(shown);
    const pair = values.originalsAndReconstructions;
    expect(pair.length).toBe(2 * shown * pixels);
    // Top: the first 16 test images, exactly.
    expect(Array.from(pair.subarray(0, shown * pixels))).toEqual(
      Array.from(test.images.subarray(0, shown * pixels)),
    );
    // Bottom: sigmoid(decoder(μ(x))), which is not the image itself.
    const x = fromTypedArray(test.images.slice(0, shown * pixels), [shown, pixels]);
    const expected = noGrad(() => run.model.decode(run.model.encode(x).mu)).dataSync();
    const reconstructions = pair.subarray(shown * pixels);
    expect(Array.from(reconstructions)).toEqual(Array.from(expected));
    const meanDifference =
      reconstructions.reduce((s, v, i) => s + Math.abs(v - pair[i]), 0) / reconstructions.length;
    expect(meanDifference).toBeGreaterThan(0.05);
    // The mean code does not depend on the noise: another generator gives the same reconstructions.
    const again = await pictureValues(run, test, new Generator(99));
    expect(Array.from(again.originalsAndReconstructions)).toEqual(Array.from(pair));
    // Samples: 64 pictures decoded from z ~ N(0, I) drawn from the generator given.
    const z = randn([64, config.latentDim], { generator: new Generator(5) });
    expect(Array.from(values.samples)).toEqual(Array.from(noGrad(() => run.model.decode(z)).dataSync()));
    expect(Array.from(again.samples)).not.toEqual(Array.from(values.samples));
    // The latent map's points: every test image's mean code.
    const all = fromTypedArray(test.images, [count, pixels]);
    expect(Array.from(values.means)).toEqual(Array.from(noGrad(() => run.model.encode(all).mu).dataSync()));
  });
});
