/**
 * Every field of a checkpoint's metadata, one at a time: each value a run could not continue from
 * is refused with a message naming the file, the field and the value; the edge values a real run
 * writes (no limit, no data folder, step 0, 0 seconds) are accepted.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { decodeCheckpoint, disposeCheckpoint, encodeCheckpoint } from "../../src/vae/checkpoint-format.ts";
import { checkpointBytes, type Run, startRun, trainRun } from "../../src/vae/run.ts";
import {
  asVersion2,
  type EditableTensor,
  editTensors,
  joinSafetensors,
  splitSafetensors,
  withMetadata,
} from "../fixtures/safetensors-bytes.ts";
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
    // Leading zeros are still the number, and the history must then hold that many epochs.
    expect(() => decode(withMetadata(good, "epoch", "01"))).toThrow(
      damaged("tensor history.loss must be float64 of shape [1]"),
    );
  });

  it("history: one float64 value per completed epoch, finite, with every step's loss", () => {
    const withColumn = (name: string, edit: (t: EditableTensor) => void) =>
      editTensors(good, (tensors) => edit(tensors[`history.${name}`]));
    const setAt = (i: number, value: number) => (t: EditableTensor) => {
      t.data[i] = value;
    };
    for (const name of ["loss", "bce", "kl"]) {
      expect(() => decode(withColumn(name, setAt(1, Number.NaN))), name).toThrow(
        damaged(`tensor history.${name} holds NaN at index 1, not a finite number`),
      );
    }
    expect(() => decode(withColumn("seconds", setAt(0, -0.5)))).toThrow(
      damaged("tensor history.seconds holds -0.5 at index 0, not a duration"),
    );
    expect(decode(withColumn("seconds", setAt(0, 0))).history[0].seconds).toBe(0);
    for (const bad of [0, 1.5, -2]) {
      expect(() => decode(withColumn("steps", setAt(1, bad))), String(bad)).toThrow(
        damaged(`tensor history.steps holds ${bad} at index 1, not a count of steps`),
      );
    }
    // One step more than the losses hold, or a loss that is not finite.
    expect(() => decode(withColumn("steps", (t) => void t.data[0]++))).toThrow(
      damaged(
        `tensor history.step_losses must be float64 of shape [${run.history[0].stepLosses.length * 2 + 1}]`,
      ),
    );
    expect(() => decode(withColumn("step_losses", setAt(2, Number.POSITIVE_INFINITY)))).toThrow(
      damaged("tensor history.step_losses holds Infinity at index 2, not a finite number"),
    );
    // float32 would round the losses: only float64 is read.
    expect(() =>
      decode(withColumn("loss", (t) => Object.assign(t, { dtype: "F32", data: Float32Array.from(t.data) }))),
    ).toThrow(damaged("tensor history.loss must be float64 of shape [2]"));
    expect(() =>
      decode(
        editTensors(good, (tensors) => {
          delete tensors["history.kl"];
        }),
      ),
    ).toThrow(damaged("tensor history.kl is missing"));
  });

  it("history of a version-2 checkpoint: one JSON entry per completed epoch, numbered from 1, with finite figures", () => {
    const old = asVersion2(good);
    expect(decode(old).history).toEqual(run.history);
    const oldMetadata = splitSafetensors(old).header.__metadata__ as Record<string, string>;
    const history = JSON.parse(oldMetadata.history) as Record<string, unknown>[];
    const withEntry = (i: number, field: string, value: unknown) =>
      withMetadata(
        old,
        "history",
        JSON.stringify(history.map((h, j) => (j === i ? { ...h, [field]: value } : h))),
      );
    expect(() => decode(withEntry(1, "epoch", 1))).toThrow(damaged("history[1].epoch is 1"));
    for (const field of ["loss", "bce", "kl"]) {
      expect(() => decode(withEntry(1, field, null))).toThrow(damaged(`history[1].${field} is null`));
    }
    expect(() => decode(withEntry(0, "seconds", -0.5))).toThrow(damaged("history[0].seconds is -0.5"));
    expect(() => decode(withEntry(1, "stepLosses", [1, null]))).toThrow(
      damaged("history[1].stepLosses is [1,null]"),
    );
    expect(() => decode(withMetadata(old, "history", JSON.stringify([history[0], 5])))).toThrow(
      damaged("history[1] must be an object, got 5"),
    );
    expect(() => decode(withMetadata(old, "history", "[]"))).toThrow(
      damaged("history must list the 2 completed epochs"),
    );
    // A version-2 file checked by the newer checksum's rule, or a version-3 file without its checksum.
    expect(() => decode(withMetadata(old, "crc32", undefined))).toThrow(damaged("it has no checksum"));
  });

  it("optimizer: a step count from 0, and a count of tensors per buffer, at most the file's tensors", () => {
    for (const bad of [-1, 1.5, "3", null]) {
      expect(() => decode(withField("optimizer", "step", bad)), `step ${bad}`).toThrow(
        damaged(`optimizer.step is ${JSON.stringify(bad)}`),
      );
    }
    expect(decode(withField("optimizer", "step", 0)).optimizer.step).toBe(0);
    // A count in the billions is refused at once (it used to take a minute and 2 GB to fail).
    for (const bad of [null, [10, 10], { m: 10, v: 2.5 }, { m: 10, v: -1 }, { m: 10, v: 1e9 }, "m"]) {
      expect(() => decode(withField("optimizer", "buffers", bad)), JSON.stringify(bad)).toThrow(
        damaged(`optimizer.buffers is ${JSON.stringify(bad)}`),
      );
    }
    // A buffer of no tensors is a state (momentum-free SGD's); here it leaves v's tensors unclaimed.
    expect(() => decode(withField("optimizer", "buffers", { m: 10, v: 0 }))).toThrow(
      damaged("tensor optimizer.v.0 is not part of a checkpoint"),
    );
  });

  it("optimizer: Adam's v, a mean of squares, never negative (it used to diverge at the first step)", () => {
    const negative = editTensors(good, (t) => {
      t["optimizer.v.3"].data[1] = -0.25;
    });
    expect(() => decode(negative)).toThrow(
      damaged("tensor optimizer.v.3 holds -0.25 at index 1, but Adam's v is never negative"),
    );
    // m and v swapped: m's negative entries show.
    const swapped = editTensors(good, (t) => {
      [t["optimizer.m.0"], t["optimizer.v.0"]] = [t["optimizer.v.0"], t["optimizer.m.0"]];
    });
    expect(() => decode(swapped)).toThrow(
      /tensor optimizer\.v\.0 holds -[\d.e-]+ at index \d+, but Adam's v is never negative/,
    );
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

  it("an optimizer buffer not yet made (null) is refused when saving, since a load would miss it; disposing skips it", async () => {
    const c = decode(good);
    const m = c.optimizer.buffers.m;
    const state = {
      ...c,
      optimizer: { ...c.optimizer, buffers: { ...c.optimizer.buffers, m: [null, ...m.slice(1)] } },
    };
    await expect(encodeCheckpoint(state)).rejects.toThrow(
      "checkpoint: optimizer buffer m has no tensor for parameter 0 yet; save after a step",
    );
    expect(() => disposeCheckpoint(state)).not.toThrow();
    m[0]?.dispose();
  });
});
