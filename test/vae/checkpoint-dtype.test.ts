/**
 * A tensor's dtype in a checkpoint's header is any JSON the file holds: each one that is not F32
 * or F64 is refused by name, with the value as JSON. (The fuzzer found {"toString": null}, which
 * String() cannot print: the reader threw a bare TypeError instead of naming the file.)
 */
import { describe, expect, it } from "vitest";
import { decodeCheckpoint } from "../../src/vae/checkpoint-format.ts";
import { checkpointBytes, startRun, trainRun } from "../../src/vae/run.ts";
import { joinSafetensors, splitSafetensors, tinyConfig, tinyDataset, tinyTraining } from "./helpers.ts";

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
