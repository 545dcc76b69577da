/**
 * startRun inside a caller's scope (src/autograd/scope.ts), as a page that frees its scratch
 * tensors would call it: loading a checkpoint frees its own conversions and hands the enclosing
 * scope nothing but tensors, so the scope can keep the run's and free the rest, and the run it
 * gets continues exactly as one started outside any scope.
 */
import { describe, expect, it } from "vitest";
import { scoped } from "../../src/autograd/scope.ts";
import { decodeCheckpoint } from "../../src/vae/checkpoint-format.ts";
import { checkpointBytes, type Run, startRun, trainRun } from "../../src/vae/run.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "./helpers.ts";

const train = tinyDataset(12);
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
