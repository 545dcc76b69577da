/**
 * What the checkpoint writer writes, its reader reads: every state the reader would refuse is
 * refused when saving, naming what is wrong, and the history of any run that can be trained (5.3
 * million steps is full MNIST at batch 1 for 90 epochs) stays far below the header's 100 MB,
 * because it is stored as tensors.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { type Checkpoint, decodeCheckpoint, encodeCheckpoint } from "../../src/vae/checkpoint-format.ts";
import { checkpointBytes, type Run, startRun, trainRun } from "../../src/vae/run.ts";
import { splitSafetensors } from "../fixtures/safetensors-bytes.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "../fixtures/tiny-run.ts";

let run: Run;
let good: Checkpoint;
beforeEach(async () => {
  if (run !== undefined) return;
  run = startRun(tinyConfig, tinyTraining({ epochs: 2 }));
  await trainRun(run, tinyDataset(8));
  good = decodeCheckpoint(await checkpointBytes(run), "good");
});

const refusedOnSave = (c: Checkpoint, what: string | RegExp) =>
  expect(encodeCheckpoint(c)).rejects.toThrow(
    typeof what === "string" ? `checkpoint: cannot be saved: ${what}` : what,
  );

describe("encodeCheckpoint refuses what decodeCheckpoint would", () => {
  it("a history that does not match the epochs, or holds what no run gives", async () => {
    await refusedOnSave({ ...good, epoch: 3 }, "epoch 3 is past the 2 epochs the run was set to train");
    await refusedOnSave({ ...good, epoch: 1 }, "tensor history.loss must be float64 of shape [1]");
    const history = (edit: Partial<Checkpoint["history"][number]>) => ({
      ...good,
      history: [good.history[0], { ...good.history[1], ...edit }],
    });
    await refusedOnSave(
      history({ loss: Number.NaN }),
      "tensor history.loss holds NaN at index 1, not a finite number",
    );
    await refusedOnSave(
      history({ seconds: -1 }),
      "tensor history.seconds holds -1 at index 1, not a duration",
    );
    await refusedOnSave(
      history({ stepLosses: [] }),
      "tensor history.steps holds 0 at index 1, not a count of steps",
    );
    await refusedOnSave(
      history({ stepLosses: [1, Number.POSITIVE_INFINITY] }),
      /tensor history\.step_losses holds Infinity at index \d+, not a finite number/,
    );
  });

  it("settings out of range: an lr of NaN, a fractional size, a generator that cannot run", async () => {
    await refusedOnSave({ ...good, training: { ...good.training, lr: Number.NaN } }, "training.lr is null");
    await refusedOnSave({ ...good, model: { ...good.model, latentDim: 1.5 } }, "model.latentDim is 1.5");
    await refusedOnSave(
      { ...good, generator: { s: [0, 0, 0, 0], spareNormal: null } },
      /s is all zeros, which xoshiro128\*\* never leaves/,
    );
    await refusedOnSave({ ...good, optimizer: { ...good.optimizer, step: -1 } }, "optimizer.step is -1");
  });

  it("a negative Adam v, which the reader refuses as damage", async () => {
    const v = good.optimizer.buffers.v;
    const negative = v[0]?.mul(-1).add(-1);
    await refusedOnSave(
      {
        ...good,
        optimizer: {
          ...good.optimizer,
          buffers: { ...good.optimizer.buffers, v: [negative ?? null, ...v.slice(1)] },
        },
      },
      /tensor optimizer\.v\.0 holds -[\d.]+ at index 0, but Adam's v is never negative/,
    );
  });
});

describe("a long history", () => {
  it("of 5.3 million steps keeps the header small, and comes back exactly", async () => {
    const epochs = 90;
    const steps = 59_000;
    const history = Array.from({ length: epochs }, (_, e) => ({
      epoch: e + 1,
      loss: 100 + 1 / (e + 1),
      bce: 90 + 1 / (e + 3),
      kl: 10 + 1 / (e + 7),
      seconds: 12.345678901234567,
      stepLosses: Array.from({ length: steps }, (_, s) => 100 + Math.sin(e * steps + s) / 3),
    }));
    const c = { ...good, training: { ...good.training, epochs }, epoch: epochs, history };
    const bytes = await encodeCheckpoint(c);
    const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
    expect(headerLength).toBeLessThan(20_000);
    expect(Object.keys(splitSafetensors(bytes).header.__metadata__ as object)).not.toContain("history");
    const back = decodeCheckpoint(bytes, "long");
    expect(back.history).toHaveLength(epochs);
    expect(back.history[89].stepLosses).toHaveLength(steps);
    // float64, bit for bit: a resumed run's report is an uninterrupted run's.
    expect(back.history[89].stepLosses).toEqual(history[89].stepLosses);
    expect(back.history[3]).toEqual(history[3]);
  }, 60_000);
});
