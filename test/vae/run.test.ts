/**
 * A run's pieces that the command line and the lab share (src/vae/run.ts): which epochs trainRun
 * trains and what it tells its callers, the evaluation's own generator and data, the checks made
 * when a checkpoint's optimizer state is loaded into a fresh run, startRun inside a caller's scope
 * (it hands that scope nothing but tensors), and the report's picture values: the test images above
 * their reconstructions from the mean code, and samples decoded from z ~ N(0, I).
 */
import { describe, expect, it } from "vitest";
import { randn } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { Generator } from "../../src/autograd/random.ts";
import { scoped } from "../../src/autograd/scope.ts";
import { fromTypedArray } from "../../src/autograd/tensor.ts";
import type { Dataset } from "../../src/train-mnist/data.ts";
import { decodeCheckpoint } from "../../src/vae/checkpoint-format.ts";
import { evaluateElbo, evaluateIwae } from "../../src/vae/evaluate.ts";
import {
  checkpointBytes,
  disposeRun,
  evaluateRun,
  evaluationGenerator,
  initialTestLoss,
  pictureValues,
  type Run,
  startRun,
  trainRun,
} from "../../src/vae/run.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "../fixtures/tiny-run.ts";

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

const runTensors = (run: Run) => [
  ...run.optimizer.params,
  ...Object.values(run.optimizer.stateTensors()).flat(),
];

describe("startRun from a checkpoint inside a caller's scope", () => {
  it("leaves the scope only tensors to free, and continues as a run started outside any scope", async () => {
    const first = startRun(tinyConfig, tinyTraining({ epochs: 2 }));
    await trainRun(first, train);
    first.training.epochs = 3;
    const bytes = await checkpointBytes(first);
    const c = () => decodeCheckpoint(bytes, "ck");

    const inside = scoped(() => {
      const checkpoint = c();
      return startRun(checkpoint.model, checkpoint.training, checkpoint);
    }, runTensors);
    const outside = (() => {
      const checkpoint = c();
      return startRun(checkpoint.model, checkpoint.training, checkpoint);
    })();
    await trainRun(inside, train);
    await trainRun(outside, train);
    expect(inside.history).toHaveLength(3);
    expect(inside.history.at(-1)?.stepLosses).toEqual(outside.history.at(-1)?.stepLosses);
  });
});

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

describe("startRun from a checkpoint of a long history", () => {
  it("takes over 300,000 epochs' results (no spread into push, which overflows the stack)", async () => {
    const first = startRun(tinyConfig, tinyTraining({ epochs: 1 }));
    await trainRun(first, train);
    const checkpoint = decodeCheckpoint(await checkpointBytes(first), "ck");
    const epochs = 300_000;
    const history = Array.from({ length: epochs }, (_, i) => ({ ...checkpoint.history[0], epoch: i + 1 }));
    const run = startRun(checkpoint.model, { ...checkpoint.training, epochs }, { ...checkpoint, history });
    expect(run.history).toHaveLength(epochs);
    expect(run.history[epochs - 1].epoch).toBe(epochs);
  });
});
