/**
 * What trainEpoch tells its caller, pinned number by number on a tiny model: each step's report
 * (the batch's −ELBO per image and its two terms, the running average weighted by batch size), the
 * epoch's figures and its wall time in seconds, the `inspect` hook's view (this step's gradients
 * and the parameters before the update), the divergence guard's words (the first non-finite number,
 * index 0 included, and a parameter the model does not name), a huge but finite model that is not
 * stopped, the reads a sound step costs, and the steps not yet read freed when a step throws.
 * readEvery: the host reads the steps' numbers only every k steps (one burst per k steps), so a GPU
 * is never drained between two steps it could have queued, and nothing else changes.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { Generator } from "../../src/autograd/random.ts";
import { fromTypedArray, type Tensor } from "../../src/autograd/tensor.ts";
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";
import { getBackend, setBackend } from "../../src/kernels/registry.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import { SGD } from "../../src/nn/optim/sgd.ts";
import { loadMnist } from "../../src/train-mnist/data.ts";
import type { Dataset } from "../../src/vae/dataset.ts";
import { BernoulliVAE } from "../../src/vae/model.ts";
import { startRun, trainRun } from "../../src/vae/run.ts";
import { type StepReport, trainEpoch } from "../../src/vae/train.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "../fixtures/tiny-run.ts";

const previous = getBackend();
let backend: CpuBackend;
beforeEach(() => {
  backend = new CpuBackend();
  setBackend(backend);
});
afterAll(() => setBackend(previous));

function tinyModel(seed = 3) {
  const generator = new Generator(seed);
  return { generator, model: new BernoulliVAE(tinyConfig, { generator }) };
}

/** Write `values` into the tensor `t` in place, as a diverging update would. */
function overwrite(t: Tensor, values: Float32Array): void {
  noGrad(() => t.assign(fromTypedArray(values, t.shape)));
}

/** SGD whose `at`-th step leaves NaN at index 0 of `target`, after the update (the step's loss was finite). */
class PoisoningSGD extends SGD {
  constructor(
    params: Tensor[],
    private readonly target: Tensor,
    private readonly at: number,
  ) {
    super(params, { lr: 0.01 });
  }
  override step(): void {
    super.step();
    if (this.steps !== this.at) return;
    const values = Float32Array.from(this.target.dataSync());
    values[0] = Number.NaN;
    overwrite(this.target, values);
  }
}

describe("trainEpoch's reports", () => {
  it("each step: −ELBO per image = BCE + KL per image; the average is weighted by batch size; the epoch agrees", async () => {
    const { generator, model } = tinyModel();
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    const reports: StepReport[] = [];
    const before = performance.now();
    const epoch = await trainEpoch(model, optimizer, tinyDataset(10), {
      epoch: 7,
      batchSize: 4,
      generator,
      onStep: (r) => void reports.push(r),
    });
    const wall = (performance.now() - before) / 1000;
    const sizes = [4, 4, 2];
    expect(reports.map((r) => [r.step, r.steps])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    let sum = 0;
    for (const [i, r] of reports.entries()) {
      expect(r.loss).toBeGreaterThan(0);
      expect(r.kl).toBeGreaterThan(0);
      expect(r.bce + r.kl).toBeCloseTo(r.loss, 4);
      sum += r.loss * sizes[i];
      const seen = sizes.slice(0, i + 1).reduce((a, b) => a + b);
      expect(r.average).toBeCloseTo(sum / seen, 10);
      expect(r.inspected).toEqual([]);
    }
    expect(epoch.epoch).toBe(7);
    expect(epoch.stepLosses).toEqual(reports.map((r) => r.loss));
    expect(epoch.loss).toBeCloseTo(reports[2].average, 10);
    const weighted = (key: "bce" | "kl") => reports.reduce((s, r, i) => s + r[key] * sizes[i], 0) / 10;
    expect(epoch.bce).toBeCloseTo(weighted("bce"), 10);
    expect(epoch.kl).toBeCloseTo(weighted("kl"), 10);
    // Wall time, in seconds: within the time measured around the call.
    expect(epoch.seconds).toBeGreaterThan(0);
    expect(epoch.seconds).toBeLessThanOrEqual(wall);
  });

  it("inspect sees this step's gradients and the parameters before the optimizer moves them", async () => {
    const { generator, model } = tinyModel();
    const lr = 0.5;
    const optimizer = new SGD(model.parameters(), { lr });
    const w = model.fc4.weight;
    const reports: StepReport[] = [];
    await trainEpoch(model, optimizer, tinyDataset(4), {
      epoch: 1,
      batchSize: 4,
      generator,
      inspect: () => noGrad(() => [w.mul(1), (w.grad as Tensor).mul(1)]),
      onStep: (r) => void reports.push(r),
    });
    expect(reports.length).toBe(1);
    const [before, grad] = reports[0].inspected;
    expect(grad.some((g) => g !== 0)).toBe(true);
    const expected = Array.from(before, (v, i) => Math.fround(v - Math.fround(grad[i] * lr)));
    expect(Array.from(w.dataSync())).toEqual(expected);
  });

  it("trains in train mode, whatever mode an evaluation left the model and its layers in", async () => {
    const { generator, model } = tinyModel();
    model.eval();
    const modes: boolean[] = [];
    await trainEpoch(model, new Adam(model.parameters(), { lr: 0.01 }), tinyDataset(8), {
      epoch: 1,
      batchSize: 4,
      generator,
      // A module with dropout would read these flags in its forward.
      inspect: () => {
        modes.push(model.training, model.fc1.training, model.fc4.training);
        return [];
      },
    });
    expect(modes).toEqual(new Array(6).fill(true));
  });

  it("a sound step reads its four numbers and nothing more (every read makes a GPU wait)", async () => {
    const { generator, model } = tinyModel();
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    let reads = 0;
    const read = backend.read.bind(backend);
    backend.read = (x) => {
      reads++;
      return read(x);
    };
    await trainEpoch(model, optimizer, tinyDataset(12), { epoch: 1, batchSize: 4, generator });
    expect(reads).toBe(3 * 4);
  });
});

describe("trainEpoch's divergence guard", () => {
  it("names the first non-finite number even at index 0, the step it appeared in, and stops there", async () => {
    const { generator, model } = tinyModel();
    const [name, target] = model.namedParameters().at(-1) as [string, Tensor];
    const optimizer = new PoisoningSGD(model.parameters(), target, 2);
    const steps: number[] = [];
    await expect(
      trainEpoch(model, optimizer, tinyDataset(12), {
        epoch: 3,
        batchSize: 4,
        generator,
        onStep: (r) => void steps.push(r.step),
      }),
    ).rejects.toThrow(
      `training stopped: the parameter ${name} holds NaN at index 0 at epoch 3, step 2/3 (try a smaller --lr); no checkpoint was written for this epoch`,
    );
    expect(steps).toEqual([1]);
  });

  it("names a parameter the model does not know by its place in the optimizer", async () => {
    const { generator, model } = tinyModel();
    const extra = fromTypedArray(Float32Array.from([1, 2, 3]), [3], { requiresGrad: true });
    const params = [...model.parameters(), extra];
    const optimizer = new PoisoningSGD(params, extra, 1);
    await expect(
      trainEpoch(model, optimizer, tinyDataset(8), { epoch: 1, batchSize: 4, generator }),
    ).rejects.toThrow(
      `training stopped: the parameter #${params.length - 1} holds NaN at index 0 at epoch 1, step 1/2 `,
    );
  });

  it("does not stop a model whose numbers are huge but finite (their sum overflows the probe)", async () => {
    const { generator, model } = tinyModel();
    const w = model.fc1.weight;
    // All-black images: fc1's weights meet only zeros, so the loss and the gradients stay finite.
    overwrite(w, new Float32Array(w.size).fill(3e38));
    const black: Dataset = { ...tinyDataset(8), images: new Float32Array(8 * 4) };
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    const epoch = await trainEpoch(model, optimizer, black, { epoch: 1, batchSize: 4, generator });
    expect(Number.isFinite(epoch.loss)).toBe(true);
    expect(Array.from(w.dataSync())).toEqual(new Array(w.size).fill(Math.fround(3e38)));
  });
});

describe("trainEpoch when a step throws", () => {
  it("frees the steps not yet read: as many live buffers after it whatever readEvery", async () => {
    const liveAfterFailure = async (readEvery: number) => {
      setBackend(new CpuBackend());
      const { generator, model } = tinyModel();
      const optimizer = new Adam(model.parameters(), { lr: 0.01 });
      let step = 0;
      const inspect = () => {
        if (++step === 3) throw new Error("the lab's view failed");
        return [];
      };
      const before = getBackend().memory().buffers;
      await expect(
        trainEpoch(model, optimizer, tinyDataset(20), {
          epoch: 1,
          batchSize: 4,
          generator,
          readEvery,
          inspect,
        }),
      ).rejects.toThrow("the lab's view failed");
      return getBackend().memory().buffers - before;
    };
    const readingEachStep = await liveAfterFailure(1);
    expect(await liveAfterFailure(5)).toBe(readingEachStep);
  });
});

/** One epoch of 10 steps, reading every `readEvery`: what it reported, and S (a step) and R (a read) in order. */
async function epoch(readEvery: number) {
  const backend = new CpuBackend();
  setBackend(backend);
  const events: string[] = [];
  const read = backend.read.bind(backend);
  backend.read = (x) => {
    events.push("R");
    return read(x);
  };
  const run = startRun(tinyConfig, tinyTraining({ epochs: 1, batchSize: 4 }));
  const forward = run.model.forward.bind(run.model);
  run.model.forward = (...args) => {
    events.push("S");
    return forward(...args);
  };
  const reports: StepReport[] = [];
  await trainRun(run, tinyDataset(40), { readEvery, onStep: (_, r) => void reports.push(r) });
  return { history: run.history[0], reports, pattern: events.join("").replace(/R+/g, "R") };
}

describe("trainEpoch reads every k steps", () => {
  it("reads once per k steps, in one burst, and the last steps at the end", async () => {
    expect((await epoch(1)).pattern).toBe("SR".repeat(10));
    expect((await epoch(4)).pattern).toBe("SSSSRSSSSRSSR");
    expect((await epoch(20)).pattern).toBe(`${"S".repeat(10)}R`);
  });

  it("gives the same epoch, and the same reports in the same order, whatever k", async () => {
    const one = await epoch(1);
    for (const k of [3, 10]) {
      const other = await epoch(k);
      expect({ ...other.history, seconds: 0 }).toEqual({ ...one.history, seconds: 0 });
      expect(other.reports).toEqual(one.reports);
    }
  });

  it("still stops at the first step that diverged, and names it", async () => {
    const data = loadMnist("train", { limit: 512 });
    const message = async (readEvery: number) => {
      setBackend(new CpuBackend());
      const config = { inputDim: 784, latentDim: 4, encUnits: 32, decUnits: 32 };
      const run = startRun(config, tinyTraining({ epochs: 1, batchSize: 64, lr: 100, seed: 1 }));
      return trainRun(run, data, { readEvery }).then(
        () => "trained",
        (e: Error) => e.message,
      );
    };
    const once = await message(1);
    expect(once).toMatch(/^training stopped: .* at epoch 1, step \d\/8 /);
    expect(await message(3)).toBe(once);
    expect(await message(8)).toBe(once);
  });

  it("refuses a readEvery that is not a positive integer", async () => {
    const run = startRun(tinyConfig, tinyTraining({ epochs: 1 }));
    await expect(trainRun(run, tinyDataset(8), { readEvery: 0 })).rejects.toThrow(
      "trainEpoch: readEvery must be a positive integer, got 0",
    );
  });
});
