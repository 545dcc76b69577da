/**
 * Damaged checkpoints are refused before any work starts, each with a message naming the file and
 * what is wrong; nothing non-finite is ever saved, and a checkpoint holding NaN loads only on request.
 * A tensor's dtype in the header is any JSON the file holds: each one that is not F32 or F64 is
 * refused by name, with the value as JSON.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { Generator } from "../../src/autograd/random.ts";
import { decodeCheckpoint } from "../../src/vae/checkpoint-format.ts";
import { checkpointBytes, startRun, trainRun } from "../../src/vae/run.ts";
import {
  type EditableTensor,
  editTensors,
  joinSafetensors,
  splitSafetensors,
  withMetadata,
} from "../fixtures/safetensors-bytes.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "../fixtures/tiny-run.ts";

const file = "runs/x/checkpoint.safetensors";

async function goodCheckpoint(): Promise<Uint8Array> {
  const run = startRun(tinyConfig, tinyTraining({ epochs: 1 }));
  await trainRun(run, tinyDataset(8));
  return checkpointBytes(run);
}

// Made once, by the first test that needs it rather than at import: work done at import is invisible
// to mutation testing's per-test coverage, which then has to run every test against every mutant.
let good: Uint8Array;
beforeEach(async () => {
  good ??= await goodCheckpoint();
});

function decode(bytes: Uint8Array) {
  return decodeCheckpoint(bytes, file);
}

/** Edit the header's entry for one tensor. */
function withEntry(
  bytes: Uint8Array,
  name: string,
  edit: (entry: Record<string, unknown>) => unknown,
): Uint8Array {
  const { header, data } = splitSafetensors(bytes);
  return joinSafetensors({ ...header, [name]: edit({ ...(header[name] as Record<string, unknown>) }) }, data);
}

describe("a damaged checkpoint is refused with a clear message", () => {
  it("a good one loads, and restores the run it saved", () => {
    const c = decode(good);
    expect(c.epoch).toBe(1);
    expect(c.history).toHaveLength(1);
    expect(Object.keys(c.optimizer.buffers)).toEqual(["m", "v"]);
    const run = startRun(c.model, c.training, c);
    expect(run.history).toHaveLength(1);
  });

  it("a missing optimizer tensor (it used to become zeros)", () => {
    const { header, data } = splitSafetensors(good);
    const { "optimizer.v.3": dropped, ...rest } = header as Record<
      string,
      { data_offsets: [number, number] }
    >;
    // Keep the data tiled: move the tensors after the dropped one down.
    const [begin, end] = dropped.data_offsets;
    const shifted = Object.fromEntries(
      Object.entries(rest).map(([n, e]) =>
        n === "__metadata__" || e.data_offsets[0] < end
          ? [n, e]
          : [
              n,
              { ...e, data_offsets: [e.data_offsets[0] - (end - begin), e.data_offsets[1] - (end - begin)] },
            ],
      ),
    );
    const bytes = joinSafetensors(
      shifted,
      Uint8Array.from([...data.subarray(0, begin), ...data.subarray(end)]),
    );
    expect(() => decode(bytes)).toThrow(`${file}: damaged checkpoint: tensor optimizer.v.3 is missing`);
  });

  it("overlapping or negative data offsets (they used to read another tensor's bytes)", () => {
    const { header } = splitSafetensors(good);
    const first = header["model.fc1.weight"] as { data_offsets: [number, number] };
    const overlapping = withEntry(good, "model.fc1.bias", (e) => ({
      ...e,
      data_offsets: first.data_offsets.map((o) => o),
    }));
    expect(() => decode(overlapping)).toThrow(
      /not a valid safetensors checkpoint: tensor model\.fc1\.bias: shape \[3\] of F32 and offsets/,
    );
    const sameSize = withEntry(good, "model.fc1.bias", (e) => ({ ...e, data_offsets: [0, 12] }));
    expect(() => decode(sameSize)).toThrow(
      /starts at byte \d+ of the data but the tensors before it end at \d+ \(the data must be tiled/,
    );
    const negative = withEntry(good, "model.fc1.bias", (e) => ({ ...e, data_offsets: [-12, 0] }));
    expect(() => decode(negative)).toThrow(
      /model\.fc1\.bias: data_offsets \[-12,0\] is not two non-negative integers/,
    );
  });

  it("an optimizer tensor with a transposed shape (only its size used to be checked)", () => {
    const bytes = withEntry(good, "optimizer.m.0", (e) => ({
      ...e,
      shape: [...(e.shape as number[])].reverse(),
    }));
    const c = decode(bytes);
    expect(() => startRun(c.model, c.training, c)).toThrow(
      "optimizer.m.0 has shape [4, 3] but its parameter has [3, 4]",
    );
  });

  it('epoch "abc" (it used to print "trained for NaN epochs"), and other mistyped fields', () => {
    expect(() => decode(withMetadata(good, "epoch", "abc"))).toThrow(
      `${file}: damaged checkpoint: epoch "abc" is not a whole number`,
    );
    expect(() => decode(withMetadata(good, "epoch", "5"))).toThrow(/epoch 5 is past the 1 epochs/);
    expect(() =>
      decode(withMetadata(good, "model", '{"inputDim":4,"latentDim":-2,"encUnits":3,"decUnits":3}')),
    ).toThrow(/model\.latentDim is -2/);
    expect(() => decode(withMetadata(good, "training", "null"))).toThrow(
      /training must be an object, got null/,
    );
    expect(() => decode(withMetadata(good, "optimizer", "{"))).toThrow(/metadata "optimizer" is not JSON/);
    expect(() => decode(withMetadata(good, "generator", undefined))).toThrow(
      /metadata "generator" is missing/,
    );
    expect(() => decode(withMetadata(good, "format", "something-else"))).toThrow(
      /not an elbo VAE checkpoint \(format "something-else"\)/,
    );
  });

  it("a header of null, an array or a number (it used to be an internal TypeError)", () => {
    const { data } = splitSafetensors(good);
    for (const [header, word] of [
      [null, "null"],
      [[1, 2], "an array"],
      [7, "a number"],
    ] as const) {
      expect(() => decode(joinSafetensors(header, data))).toThrow(
        `${file}: not a valid safetensors checkpoint: header is ${word}, not a JSON object`,
      );
    }
  });

  it("a generator state of all zeros (the normal sampler used to hang on it)", () => {
    const zero = JSON.stringify({ s: [0, 0, 0, 0], spareNormal: null });
    expect(() => decode(withMetadata(good, "generator", zero))).toThrow(
      /s is all zeros, which xoshiro128\*\* never leaves/,
    );
    const fractional = JSON.stringify({ s: [1.5, 0, 0, 0], spareNormal: null });
    expect(() => decode(withMetadata(good, "generator", fractional))).toThrow(
      /s must be four unsigned 32-bit integers/,
    );
    const noSpare = JSON.stringify({ s: [1, 2, 3, 4] });
    expect(() => decode(withMetadata(good, "generator", noSpare))).toThrow(
      /spareNormal must be null or a finite number/,
    );
    expect(() => new Generator(1).setState({ s: [0, 0, 0, 0], spareNormal: null })).toThrow(/all zeros/);
  });

  it("weights holding NaN are refused unless allowed; they are never saved", async () => {
    const run = startRun(tinyConfig, tinyTraining({ epochs: 1 }));
    await trainRun(run, tinyDataset(8));
    noGrad(() => run.model.fc1.weight.assign(run.model.fc1.weight.mul(Number.NaN)));
    await expect(checkpointBytes(run)).rejects.toThrow(
      /tensor model\.fc1\.weight holds NaN at index 0; only finite values may be saved/,
    );

    const { header, data } = splitSafetensors(good);
    const entry = header["model.fc1.weight"] as { data_offsets: [number, number] };
    const poisoned = Uint8Array.from(data);
    new DataView(poisoned.buffer).setFloat32(entry.data_offsets[0] + 4, Number.POSITIVE_INFINITY, true);
    const bytes = joinSafetensors(header, poisoned);
    expect(() => decode(bytes)).toThrow(
      `${file}: tensor model.fc1.weight holds Infinity at index 1: a checkpoint of a diverged run is refused (--allow-non-finite loads it anyway)`,
    );
    const allowed = decodeCheckpoint(bytes, file, { allowNonFinite: true });
    expect(allowed.weights["fc1.weight"].dataSync()[1]).toBe(Number.POSITIVE_INFINITY);
  });

  it("a tensor no checkpoint has, or a truncated file", () => {
    const { header, data } = splitSafetensors(good);
    const stray = { dtype: "F32", shape: [1], data_offsets: [data.length, data.length + 4] };
    const extra = joinSafetensors({ ...header, "stray.0": stray }, Uint8Array.from([...data, 0, 0, 0, 0]));
    expect(() => decode(extra)).toThrow(
      `${file}: damaged checkpoint: tensor stray.0 is not part of a checkpoint`,
    );
    expect(() => decode(good.subarray(0, good.length - 1))).toThrow(/do not fit the file|cover/);
    expect(() => decode(good.subarray(0, 7))).toThrow(/only 7 bytes/);
  });

  it("a flipped bit anywhere in the file, its padding and length included, is caught by the checksum", () => {
    const headerLength = Number(new DataView(good.buffer, good.byteOffset, 8).getBigUint64(0, true));
    const json = JSON.stringify(splitSafetensors(good).header);
    for (const at of [
      0,
      12,
      8 + json.length - 1,
      8 + headerLength - 1,
      8 + headerLength + 10,
      good.length - 1,
    ]) {
      const flipped = Uint8Array.from(good);
      flipped[at] ^= 0x04;
      expect(() => decode(flipped), `byte ${at}`).toThrow(/not a valid safetensors checkpoint|damaged/);
    }
  });

  it("an edit of the header that keeps it valid is caught: two same-shaped tensors' data_offsets swapped", () => {
    const { header, data } = splitSafetensors(good);
    const m = header["optimizer.m.0"] as { data_offsets: number[] };
    const v = header["optimizer.v.0"] as { data_offsets: number[] };
    // Unsealed: the stored checksum stays, as a tool that edits the header would leave it. The
    // metadata and data are unchanged, so a checksum of those alone (version 2's) passes this.
    const swapped = joinSafetensors(
      {
        ...header,
        "optimizer.m.0": { ...m, data_offsets: v.data_offsets },
        "optimizer.v.0": { ...v, data_offsets: m.data_offsets },
      },
      data,
      false,
    );
    expect(() => decode(swapped)).toThrow(
      /not a valid safetensors checkpoint: checksum [0-9a-f]{8} does not match the stored [0-9a-f]{8}: the file is damaged/,
    );
    const stored = (header.__metadata__ as Record<string, string>).file_crc32;
    const lr = withMetadata(
      good,
      "training",
      JSON.stringify({ ...JSON.parse((header.__metadata__ as Record<string, string>).training), lr: 0.03 }),
    );
    const stale = withMetadata(lr, "file_crc32", undefined);
    const { header: edited, data: same } = splitSafetensors(stale);
    const restamped = joinSafetensors(
      { ...edited, __metadata__: { ...(edited.__metadata__ as object), file_crc32: stored } },
      same,
      false,
    );
    expect(() => decode(restamped)).toThrow(/checksum .* the file is damaged/);
    expect(() => decode(withMetadata(good, "file_crc32", undefined))).toThrow(
      `${file}: damaged checkpoint: it has no checksum`,
    );
  });
});

describe("a checkpoint's tensor dtype", () => {
  it("that is not F32 or F64 is refused naming the file, the tensor and the value, whatever JSON it is", async () => {
    const run = startRun(tinyConfig, tinyTraining({ epochs: 1 }));
    await trainRun(run, tinyDataset(8));
    const { header, data } = splitSafetensors(await checkpointBytes(run));
    for (const dtype of [{ toString: null }, { valueOf: 1 }, "F16", 32, null, ["F32"], true]) {
      const entry = { ...(header["optimizer.m.6"] as object), dtype };
      const bytes = joinSafetensors({ ...header, "optimizer.m.6": entry }, data);
      expect(() => decodeCheckpoint(bytes, "runs/x/checkpoint.safetensors"), JSON.stringify(dtype)).toThrow(
        `runs/x/checkpoint.safetensors: not a valid safetensors checkpoint: tensor optimizer.m.6 has unsupported dtype ${JSON.stringify(dtype)}`,
      );
    }
  });
});

describe("a checkpoint stored in another dtype than the model's", () => {
  const file = "runs/x/checkpoint.safetensors";
  /** A trained tiny run's checkpoint with every model and optimizer tensor stored as float64. */
  async function asFloat64(edit: (t: Record<string, EditableTensor>) => void = () => {}) {
    const run = startRun(tinyConfig, tinyTraining({ epochs: 2 }));
    await trainRun(run, tinyDataset(8));
    const bytes = editTensors(await checkpointBytes(run), (tensors) => {
      for (const t of Object.values(tensors)) {
        if (t.dtype === "F32") Object.assign(t, { dtype: "F64", data: Float64Array.from(t.data) });
      }
      edit(tensors);
    });
    return { run, bytes };
  }

  it("loads when converting loses nothing, and continues as the float32 run would", async () => {
    const { run, bytes } = await asFloat64();
    const c = decodeCheckpoint(bytes, file);
    expect(c.weights["fc1.weight"].dtype).toBe("float32");
    expect(Array.from(c.weights["fc1.weight"].dataSync())).toEqual(
      Array.from(run.model.fc1.weight.dataSync()),
    );
    const resumed = startRun(c.model, { ...c.training, epochs: 3 }, c);
    await trainRun(resumed, tinyDataset(8));
    expect(resumed.history).toHaveLength(3);
    // Asked for a float64 model, a float32 checkpoint converts too (always losslessly).
    const wide = decodeCheckpoint(await checkpointBytes(run), file, { dtype: "float64" });
    expect(wide.optimizer.buffers.v[0]?.dtype).toBe("float64");
  });

  it("is refused where a value does not survive the conversion: 1e300 would become Infinity (it used to load and evaluate to NaN)", async () => {
    const { bytes } = await asFloat64((tensors) => {
      tensors["model.fc4.bias"].data[2] = 1e300;
    });
    expect(() => decodeCheckpoint(bytes, file)).toThrow(
      `${file}: damaged checkpoint: tensor model.fc4.bias is float64 and its value 1e+300 at index 2 does not fit the model's float32; a checkpoint in another dtype loads only when converting it loses nothing`,
    );
    // A value float32 would round is refused too: the run would not continue bit for bit.
    const { bytes: rounded } = await asFloat64((tensors) => {
      tensors["optimizer.m.1"].data[0] = 0.1;
    });
    expect(() => decodeCheckpoint(rounded, file)).toThrow(
      /tensor optimizer\.m\.1 is float64 and its value 0\.1 at index 0/,
    );
    // NaN converts to NaN: refused as not finite, or loaded when allowed.
    const { bytes: nan } = await asFloat64((tensors) => {
      tensors["model.fc1.bias"].data[0] = Number.NaN;
    });
    expect(() => decodeCheckpoint(nan, file)).toThrow(/tensor model\.fc1\.bias holds NaN at index 0/);
    expect(decodeCheckpoint(nan, file, { allowNonFinite: true }).weights["fc1.bias"].dataSync()[0]).toBeNaN();
  });
});
