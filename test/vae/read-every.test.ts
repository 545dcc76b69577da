/**
 * trainEpoch's readEvery: the host reads the steps' numbers only every k steps, so that a GPU is
 * never drained between two steps it could have queued. Counted here on the reads themselves (one
 * burst of reads per k steps), and nothing else changes: the same losses, the same reports in the
 * same order, and a divergence still stops at, and names, the first bad step.
 */
import { afterAll, describe, expect, it } from "vitest";
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";
import { getBackend, setBackend } from "../../src/kernels/registry.ts";
import { loadMnist } from "../../src/train-mnist/data.ts";
import { startRun, trainRun } from "../../src/vae/run.ts";
import type { StepReport } from "../../src/vae/train.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "./helpers.ts";

const previous = getBackend();
afterAll(() => setBackend(previous));

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
