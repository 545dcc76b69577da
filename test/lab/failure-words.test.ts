/**
 * A run that diverges is told in the lab's words: the page's step (counted across epochs, as its
 * chart counts) and its control ("learning rate"), not the command line's "step 7/469" and "--lr".
 */
import { describe, expect, it } from "vitest";
import { failureInPageWords } from "../../lab/failure-words.ts";
import { useBackend } from "../../src/kernels/registry.ts";
import { loadMnist } from "../../src/train-mnist/data.ts";
import { startRun, trainRun } from "../../src/vae/run.ts";
import { TrainingDiverged } from "../../src/vae/train.ts";

describe("failureInPageWords", () => {
  it("a real divergence (lr 100): the page's step and words, from the error's fields", async () => {
    await useBackend("cpu");
    const run = startRun(
      { inputDim: 784, latentDim: 4, encUnits: 32, decUnits: 32 },
      { epochs: 3, batchSize: 64, lr: 100, seed: 1, limit: 512, dataDir: null },
    );
    const error = await trainRun(run, loadMnist("train", { limit: 512 })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TrainingDiverged);
    const diverged = error as TrainingDiverged;
    expect(diverged.epoch).toBe(1);
    expect(diverged.steps).toBe(8);
    expect(diverged.message).toContain(`step ${diverged.step}/8 (try a smaller --lr)`);
    const words = failureInPageWords(diverged);
    expect(words).toBe(
      `Training stopped at step ${diverged.step}: ${diverged.what}. The learning rate is probably too large for this model: make it smaller and press reset.`,
    );
    expect(words).not.toMatch(/--|\/8/);
  });

  it("counts steps across epochs, as the page's chart does", () => {
    expect(failureInPageWords(new TrainingDiverged("the loss became NaN", 3, 7, 469))).toMatch(
      /^Training stopped at step 945: the loss became NaN\. /,
    );
    expect(failureInPageWords(new Error("out of memory"))).toBe("Training stopped: out of memory");
  });
});
