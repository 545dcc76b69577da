/**
 * A tensor's dtype in a checkpoint's header is any JSON the file holds: each one that is not F32
 * or F64 is refused by name, with the value as JSON. (The fuzzer found {"toString": null}, which
 * String() cannot print: the reader threw a bare TypeError instead of naming the file.)
 */
import { describe, expect, it } from "vitest";
import { decodeCheckpoint } from "../../src/vae/checkpoint-format.ts";
import { checkpointBytes, startRun, trainRun } from "../../src/vae/run.ts";
import {
  type EditableTensor,
  editTensors,
  joinSafetensors,
  splitSafetensors,
  tinyConfig,
  tinyDataset,
  tinyTraining,
} from "./helpers.ts";

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
