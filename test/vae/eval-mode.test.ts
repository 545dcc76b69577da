/**
 * Evaluation runs the model in eval mode, as PyTorch's model.eval(): a layer that behaves
 * differently while training (dropout, batch norm) must see eval mode in every forward pass that
 * evaluateElbo, evaluateIwae and the report's pictures make, even when training left the model in
 * train mode. (trainEpoch sets train mode back at the start of every epoch.)
 */
import { describe, expect, it } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import { evaluateElbo, evaluateIwae } from "../../src/vae/evaluate.ts";
import type { BernoulliVAE } from "../../src/vae/model.ts";
import { pictureValues, startRun } from "../../src/vae/run.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "./helpers.ts";

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
