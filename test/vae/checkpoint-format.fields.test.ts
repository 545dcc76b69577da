/**
 * Every field of a checkpoint's metadata, one at a time: each value a run could not continue from
 * is refused with a message naming the file, the field and the value; the edge values a real run
 * writes (no limit, no data folder, step 0, 0 seconds) are accepted.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { decodeCheckpoint, disposeCheckpoint, encodeCheckpoint } from "../../src/vae/checkpoint-format.ts";
import { checkpointBytes, type Run, startRun, trainRun } from "../../src/vae/run.ts";
import { joinSafetensors, splitSafetensors, withMetadata } from "../fixtures/safetensors-bytes.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "../fixtures/tiny-run.ts";

const file = "runs/x/checkpoint.safetensors";
// Made once, by the first test that needs it rather than at import: work done at import is invisible
// to mutation testing's per-test coverage, which then has to run every test against every mutant.
let run: Run;
let good: Uint8Array;
let metadata: Record<string, string>;
beforeEach(async () => {
  if (good !== undefined) return;
  run = startRun(tinyConfig, tinyTraining({ epochs: 2 }));
  await trainRun(run, tinyDataset(8));
  good = await checkpointBytes(run);
  metadata = splitSafetensors(good).header.__metadata__ as Record<string, string>;
});
const saved = (key: string) => JSON.parse(metadata[key]);

/** The checkpoint with one field of one metadata entry replaced (undefined: left out). */
function withField(key: string, field: string, value: unknown): Uint8Array {
  const entry = { ...saved(key), [field]: value };
  if (value === undefined) delete entry[field];
  return withMetadata(good, key, JSON.stringify(entry));
}

const decode = (bytes: Uint8Array) => decodeCheckpoint(bytes, file);
const damaged = (what: string) => `${file}: damaged checkpoint: ${what}`;

describe("a checkpoint's fields", () => {
  it("model: every size a positive integer", () => {
    for (const field of ["inputDim", "latentDim", "encUnits", "decUnits"]) {
      for (const bad of [0, -3, 1.5, "4", null]) {
        expect(() => decode(withField("model", field, bad)), `${field} ${bad}`).toThrow(
          damaged(`model.${field} is ${JSON.stringify(bad)}`),
        );
      }
      expect(() => decode(withField("model", field, undefined))).toThrow(
        damaged(`model.${field} is missing`),
      );
    }
  });

  it("training: epochs and batch size positive integers, lr positive, seed an integer, limit and folder optional", () => {
    const refused: [string, unknown][] = [
      ["epochs", 0],
      ["epochs", 2.5],
      ["batchSize", 0],
      ["batchSize", "4"],
      ["lr", 0],
      ["lr", -0.01],
      ["lr", "0.01"],
      ["lr", null],
      ["seed", 1.5],
      ["seed", "5"],
      ["seed", 2 ** 53],
      ["limit", 0],
      ["limit", 2.5],
      ["limit", "10"],
      ["dataDir", 7],
      ["dataDir", false],
    ];
    for (const [field, bad] of refused) {
      expect(() => decode(withField("training", field, bad)), `${field} ${bad}`).toThrow(
        damaged(`training.${field} is ${JSON.stringify(bad)}`),
      );
    }
    for (const [field, fine] of [
      ["limit", null],
      ["limit", 8],
      ["dataDir", null],
      ["dataDir", "mnist"],
      ["seed", -4],
      ["lr", 1e-6],
    ] as [string, unknown][]) {
      expect(
        decode(withField("training", field, fine)).training[field as "limit"],
        `${field} ${fine}`,
      ).toEqual(fine);
    }
  });

  it("epoch: a whole number, at most the epochs the run was set to train", () => {
    for (const bad of ["-1", "1.0", "1e0", " 1", ""]) {
      expect(() => decode(withMetadata(good, "epoch", bad)), bad).toThrow(
        damaged(`epoch "${bad}" is not a whole number`),
      );
    }
    expect(() => decode(withMetadata(good, "epoch", undefined))).toThrow(
      damaged('epoch "undefined" is not a whole number'),
    );
    expect(() => decode(withMetadata(good, "epoch", "3"))).toThrow(
      damaged("epoch 3 is past the 2 epochs the run was set to train"),
    );
    // Leading zeros are still the number, and the history must then list that many epochs.
    expect(() => decode(withMetadata(good, "epoch", "01"))).toThrow(
      damaged("history must list the 1 completed epochs"),
    );
  });

  it("history: one entry per completed epoch, numbered from 1, with finite figures", () => {
    const history = saved("history") as Record<string, unknown>[];
    const withEntry = (i: number, field: string, value: unknown) =>
      withMetadata(
        good,
        "history",
        JSON.stringify(history.map((h, j) => (j === i ? { ...h, [field]: value } : h))),
      );
    expect(() => decode(withEntry(1, "epoch", 1))).toThrow(damaged("history[1].epoch is 1"));
    expect(() => decode(withEntry(0, "epoch", 2))).toThrow(damaged("history[0].epoch is 2"));
    for (const field of ["loss", "bce", "kl"]) {
      expect(() => decode(withEntry(1, field, null))).toThrow(damaged(`history[1].${field} is null`));
      expect(() => decode(withEntry(0, field, "1"))).toThrow(damaged(`history[0].${field} is "1"`));
    }
    expect(() => decode(withEntry(0, "seconds", -0.5))).toThrow(damaged("history[0].seconds is -0.5"));
    expect(() => decode(withEntry(0, "seconds", null))).toThrow(damaged("history[0].seconds is null"));
    expect(decode(withEntry(0, "seconds", 0)).history[0].seconds).toBe(0);
    expect(() => decode(withEntry(1, "stepLosses", [1, null]))).toThrow(
      damaged("history[1].stepLosses is [1,null]"),
    );
    expect(() => decode(withEntry(1, "stepLosses", "1,2"))).toThrow(
      damaged('history[1].stepLosses is "1,2"'),
    );
    expect(() =>
      decode(withMetadata(good, "history", JSON.stringify({ 0: history[0], 1: history[1] }))),
    ).toThrow(damaged("history must list the 2 completed epochs"));
    expect(() => decode(withMetadata(good, "history", JSON.stringify([history[0], 5])))).toThrow(
      damaged("history[1] must be an object, got 5"),
    );
    expect(() => decode(withMetadata(good, "history", JSON.stringify([history[0], [history[1]]])))).toThrow(
      /history\[1\] must be an object, got \[\{/,
    );
  });

  it("optimizer: a step count from 0, and a positive count of tensors per buffer", () => {
    for (const bad of [-1, 1.5, "3", null]) {
      expect(() => decode(withField("optimizer", "step", bad)), `step ${bad}`).toThrow(
        damaged(`optimizer.step is ${JSON.stringify(bad)}`),
      );
    }
    expect(decode(withField("optimizer", "step", 0)).optimizer.step).toBe(0);
    for (const bad of [null, [10, 10], { m: 10, v: 0 }, { m: 10, v: 2.5 }, "m"]) {
      expect(() => decode(withField("optimizer", "buffers", bad)), JSON.stringify(bad)).toThrow(
        damaged(`optimizer.buffers is ${JSON.stringify(bad)}`),
      );
    }
  });

  it("what a good checkpoint holds comes back as it was saved", () => {
    const c = decode(good);
    expect(c.model).toEqual(tinyConfig);
    expect(c.training).toEqual(tinyTraining({ epochs: 2 }));
    expect(c.epoch).toBe(2);
    expect(c.history).toEqual(run.history);
    expect(c.generator).toEqual(run.generator.getState());
    expect(c.optimizer.step).toBe(run.optimizer.stateDict().step);
    const names = run.model.namedParameters().map(([n]) => n);
    expect(Object.keys(c.weights).sort()).toEqual([...names].sort());
    for (const [name, p] of run.model.namedParameters()) {
      expect(Array.from(c.weights[name].dataSync()), name).toEqual(Array.from(p.dataSync()));
      expect(c.weights[name].shape).toEqual(p.shape);
    }
  });
});

describe("a checkpoint's format and tensors", () => {
  it("names a missing format", () => {
    expect(() => decode(withMetadata(good, "format", undefined))).toThrow(
      `${file}: not an elbo VAE checkpoint (format "missing")`,
    );
  });

  it("refuses a non-finite value at the first index of a tensor too", () => {
    const { header, data } = splitSafetensors(good);
    const entry = header["optimizer.v.0"] as { data_offsets: [number, number] };
    const poisoned = Uint8Array.from(data);
    new DataView(poisoned.buffer).setFloat32(entry.data_offsets[0], Number.NaN, true);
    expect(() => decode(joinSafetensors(header, poisoned))).toThrow(
      `${file}: tensor optimizer.v.0 holds NaN at index 0: a checkpoint of a diverged run is refused (--allow-non-finite loads it anyway)`,
    );
  });

  it("an optimizer buffer not yet made (null) is not saved, and disposing skips it", async () => {
    const c = decode(good);
    const m = c.optimizer.buffers.m;
    const state = {
      ...c,
      optimizer: { ...c.optimizer, buffers: { ...c.optimizer.buffers, m: [null, ...m.slice(1)] } },
    };
    const { header } = splitSafetensors(await encodeCheckpoint(state));
    expect(Object.keys(header)).not.toContain("optimizer.m.0");
    expect(Object.keys(header)).toContain("optimizer.m.1");
    expect(() => disposeCheckpoint(state)).not.toThrow();
    m[0]?.dispose();
  });
});
