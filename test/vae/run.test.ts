/**
 * A run's pieces that the command line and the lab share (src/vae/run.ts): which epochs trainRun
 * trains and what it tells its callers, the evaluation's own generator and data, and the checks
 * made when a checkpoint's optimizer state is loaded into a fresh run.
 */
import { describe, expect, it } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import { decodeCheckpoint } from "../../src/vae/checkpoint-format.ts";
import { evaluateElbo, evaluateIwae } from "../../src/vae/evaluate.ts";
import {
  checkpointBytes,
  disposeRun,
  evaluateRun,
  evaluationGenerator,
  initialTestLoss,
  pictureValues,
  startRun,
  trainRun,
} from "../../src/vae/run.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "./helpers.ts";

const train = tinyDataset(12);

describe("trainRun", () => {
  it("trains the epochs after the last completed one, telling onStep and onEpoch as it goes", async () => {
    const run = startRun(tinyConfig, tinyTraining({ epochs: 3, batchSize: 4 }));
    const steps: [number, number][] = [];
    const epochs: number[] = [];
    run.training.epochs = 1;
    await trainRun(run, train, {
      onStep: (epoch, report) => {
        steps.push([epoch, report.step]);
      },
      onEpoch: (result) => {
        epochs.push(result.epoch);
      },
    });
    expect(epochs).toEqual([1]);
    run.training.epochs = 3;
    await trainRun(run, train, {
      onStep: (epoch, report) => {
        steps.push([epoch, report.step]);
      },
      onEpoch: (result) => {
        epochs.push(result.epoch);
        // Called once the epoch is in the history, so a checkpoint written here includes it.
        expect(run.history.at(-1)).toBe(result);
      },
    });
    expect(epochs).toEqual([1, 2, 3]);
    expect(run.history.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(steps).toEqual([1, 2, 3].flatMap((epoch) => [1, 2, 3].map((step) => [epoch, step])));
    // Nothing is left to train.
    await trainRun(run, train, { onEpoch: () => expect.unreachable("no epoch is left") });
    expect(run.history).toHaveLength(3);
  });
});

describe("evaluation", () => {
  it("draws from a generator of its own, seeded one past the run's seed", () => {
    const run = startRun(tinyConfig, tinyTraining({ seed: 41 }));
    const own = evaluationGenerator(run);
    const expected = new Generator(42);
    expect([own.uniform(), own.uniform()]).toEqual([expected.uniform(), expected.uniform()]);
    // A fresh one each time: evaluating twice gives the same figures.
    expect(evaluationGenerator(run).uniform()).toBe(new Generator(42).uniform());
  });

  it("the initial test loss is the −ELBO of the first 1,000 test images at most", async () => {
    const run = startRun(tinyConfig, tinyTraining({ seed: 3 }));
    const many = tinyDataset(1200, 2, 2, 4);
    const first = { ...many, count: 1000 };
    expect(await initialTestLoss(run, many)).toBe(
      (await evaluateElbo(run.model, first, { generator: new Generator(4) })).loss,
    );
    const few = tinyDataset(7, 2, 2, 4);
    expect(await initialTestLoss(run, few)).toBe(
      (await evaluateElbo(run.model, few, { generator: new Generator(4) })).loss,
    );
  });

  it("evaluateRun gives the test −ELBO, then the IWAE bound, from one generator", async () => {
    const run = startRun(tinyConfig, tinyTraining());
    const test = tinyDataset(9, 2, 2, 3);
    const got = await evaluateRun(run, test, { iwK: 3, iwImages: 5, generator: new Generator(8) });
    const generator = new Generator(8);
    const elbo = await evaluateElbo(run.model, test, { generator });
    const iwae = await evaluateIwae(run.model, test, { k: 3, images: 5, generator });
    expect(got.elbo).toEqual(elbo);
    expect(got.iwae).toEqual(iwae);
    expect(got.seconds).toBeGreaterThanOrEqual(0);
    expect(got.seconds).toBeLessThan(60);
  });

  it("pictures show at most 16 test images", async () => {
    const run = startRun(tinyConfig, tinyTraining());
    const values = await pictureValues(run, tinyDataset(5, 2, 2, 3), new Generator(1));
    expect(values.shown).toBe(5);
    expect(values.originalsAndReconstructions).toHaveLength(2 * 5 * 4);
  });
});

describe("startRun from a checkpoint", () => {
  async function saved() {
    const run = startRun(tinyConfig, tinyTraining({ epochs: 1 }));
    await trainRun(run, train);
    return decodeCheckpoint(await checkpointBytes(run), "ck");
  }

  it("refuses optimizer buffers that do not match the parameters one to one", async () => {
    const short = await saved();
    short.optimizer.buffers.m = short.optimizer.buffers.m.slice(1);
    expect(() => startRun(short.model, short.training, short)).toThrow(
      "optimizer buffer m has 9 tensors for 10 parameters",
    );
    const hole = await saved();
    hole.optimizer.buffers.v[2] = null;
    expect(() => startRun(hole.model, hole.training, hole)).toThrow("optimizer.v.2 is missing");
  });

  it("continues the saved run: weights, optimizer step, generator and history", async () => {
    const c = await saved();
    const weights = Object.fromEntries(
      Object.entries(c.weights).map(([n, t]) => [n, Array.from(t.dataSync())]),
    );
    const { step } = c.optimizer;
    const generator = c.generator;
    const history = c.history;
    const run = startRun(c.model, c.training, c);
    for (const [name, p] of run.model.namedParameters())
      expect(Array.from(p.dataSync()), name).toEqual(weights[name]);
    expect(run.optimizer.stateDict().step).toBe(step);
    expect(run.generator.getState()).toEqual(generator);
    expect(run.history).toEqual(history);
  });

  it("frees the checkpoint's tensors once copied in, and when it does not fit as well", async () => {
    const c = await saved();
    startRun(c.model, c.training, c);
    // The cpu backend refuses to read a freed tensor.
    expect(() => c.weights["fc1.weight"].dataSync()).toThrow(/used after dispose/);
    expect(() => c.optimizer.buffers.m[0]?.dataSync()).toThrow(/used after dispose/);
    const bad = await saved();
    bad.optimizer.buffers.v[2] = null;
    expect(() => startRun(bad.model, bad.training, bad)).toThrow("optimizer.v.2 is missing");
    expect(() => bad.weights["fc4.bias"].dataSync()).toThrow(/used after dispose/);
    expect(() => bad.optimizer.buffers.m[9]?.dataSync()).toThrow(/used after dispose/);
  });
});

describe("disposeRun", () => {
  it("frees the weights, their gradients and the optimizer's state", async () => {
    const run = startRun(tinyConfig, tinyTraining({ epochs: 1 }));
    await trainRun(run, train);
    const params = run.optimizer.params;
    const grads = params.map((p) => p.grad);
    const state = Object.values(run.optimizer.stateTensors()).flat();
    expect(grads.every((g) => g !== null)).toBe(true);
    disposeRun(run);
    for (const t of [...params, ...grads, ...state])
      expect(() => t?.dataSync()).toThrow(/used after dispose/);
  });
});
