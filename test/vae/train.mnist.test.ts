import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import { loadCheckpoint, saveCheckpoint } from "../../src/train-mnist/checkpoint.ts";
import { type Dataset, loadMnist } from "../../src/train-mnist/data.ts";
import { BernoulliVAE, type VaeConfig } from "../../src/vae/model.ts";
import { trainEpoch } from "../../src/vae/train.ts";
import { tempDir } from "../fixtures/temp-dir.ts";

const config: VaeConfig = { inputDim: 784, latentDim: 4, encUnits: 32, decUnits: 32 };
const training = { epochs: 2, batchSize: 50, lr: 0.01, seed: 3, limit: 300, dataDir: null };

function setup(seed: number) {
  const generator = new Generator(seed);
  const model = new BernoulliVAE(config, { generator });
  const optimizer = new Adam(model.parameters(), { lr: training.lr });
  return { generator, model, optimizer };
}

async function epochOf(run: ReturnType<typeof setup>, data: Dataset, epoch: number) {
  return trainEpoch(run.model, run.optimizer, data, {
    epoch,
    batchSize: training.batchSize,
    generator: run.generator,
  });
}

describe("training", () => {
  // Loaded by the first test that needs it, not while the file is collected: work done then is
  // invisible to mutation testing's per-test coverage, which then runs every test against every mutant.
  let data: Dataset;
  beforeEach(() => {
    data ??= loadMnist("train", { limit: 300 });
  });

  it("the loss falls, epoch after epoch, from about 543 nats per image", async () => {
    const run = setup(1);
    const losses: number[] = [];
    for (let e = 1; e <= 4; e++) losses.push((await epochOf(run, data, e)).loss);
    expect(losses[0]).toBeLessThan(543);
    for (let e = 1; e < losses.length; e++) expect(losses[e]).toBeLessThan(losses[e - 1]);
    expect(losses[3]).toBeLessThan(0.6 * 543);
  });

  it("resuming from a checkpoint reaches exactly the result of an uninterrupted run", async () => {
    const straight = setup(training.seed);
    await epochOf(straight, data, 1);
    const second = await epochOf(straight, data, 2);

    const first = setup(training.seed);
    const h1 = await epochOf(first, data, 1);
    const folder = tempDir("elbo-ckpt-");
    const file = join(folder, "checkpoint.safetensors");
    await saveCheckpoint(file, {
      model: config,
      training,
      epoch: 1,
      weights: first.model.stateDict(),
      optimizer: first.optimizer.stateDict(),
      generator: first.generator.getState(),
      history: [h1],
    });
    const ckpt = loadCheckpoint(file);
    const resumed = setup(999); // a different seed: everything must come from the checkpoint
    resumed.model.loadStateDict(ckpt.weights);
    resumed.optimizer.loadStateDict(ckpt.optimizer);
    resumed.generator.setState(ckpt.generator);
    const again = await epochOf(resumed, data, 2);

    expect(again.stepLosses).toEqual(second.stepLosses);
    const a = straight.model.stateDict();
    const b = resumed.model.stateDict();
    for (const name of Object.keys(a))
      expect(Array.from(b[name].dataSync()), name).toEqual(Array.from(a[name].dataSync()));
    expect(ckpt.history[0].loss).toBe(h1.loss);
  });

  it("stops with a message naming epoch and step when the loss is not finite", async () => {
    const images = data.images.slice();
    images[5] = Number.NaN;
    const broken: Dataset = { ...data, images };
    await expect(epochOf(setup(1), broken, 1)).rejects.toThrow(/loss became NaN at epoch 1, step \d+\/6/);
  });
});
