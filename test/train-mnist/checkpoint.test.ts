/**
 * A checkpoint survives a crash in the middle of writing the next one. The crash is simulated
 * through saveCheckpoint's own write hook: the first write puts half of its bytes into the file it
 * was given, for real, and then fails, as a killed process or a full disk would leave it. Whatever
 * file the bytes went to, the checkpoint at the path must still be the previous one, byte for byte,
 * and load as it; a checkpoint written in place (truncated, then half written) fails this.
 */

import { readdirSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from "../../src/train-mnist/checkpoint.ts";
import { BernoulliVAE, type VaeConfig } from "../../src/vae/model.ts";
import { tempDir } from "../fixtures/temp-dir.ts";

const config: VaeConfig = { inputDim: 16, latentDim: 2, encUnits: 5, decUnits: 6 };

function checkpointAt(epoch: number): Checkpoint {
  const generator = new Generator(epoch);
  const model = new BernoulliVAE(config, { generator });
  const optimizer = new Adam(model.parameters(), { lr: 0.01 });
  return {
    model: config,
    training: { epochs: 3, batchSize: 4, lr: 0.01, seed: epoch, limit: null, dataDir: null },
    epoch,
    weights: model.stateDict(),
    optimizer: optimizer.stateDict(),
    generator: generator.getState(),
    history: Array.from({ length: epoch }, (_, e) => ({
      epoch: e + 1,
      loss: 100 - e,
      bce: 90 - e,
      kl: 10,
      seconds: 1,
      stepLosses: [100 - e],
    })),
  };
}

describe("a crash while saving a checkpoint", () => {
  it("leaves the previous checkpoint whole, byte for byte, and nothing else beside it", async () => {
    const folder = tempDir("elbo-crash-");
    const path = join(folder, "checkpoint.safetensors");
    await saveCheckpoint(path, checkpointAt(1));
    const before = readFileSync(path);

    let writes = 0;
    const crashing = (fd: number, bytes: Uint8Array, offset: number, length: number) => {
      writes++;
      writeSync(fd, bytes, offset, Math.floor(length / 2));
      throw new Error("simulated crash: no space left on device");
    };
    await expect(saveCheckpoint(path, checkpointAt(2), { write: crashing })).rejects.toThrow(
      /checkpoint\.safetensors.*simulated crash/,
    );
    expect(writes).toBe(1);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(loadCheckpoint(path).epoch).toBe(1);
    expect(readdirSync(folder)).toEqual(["checkpoint.safetensors"]);

    // And the next save, without a crash, replaces it whole.
    await saveCheckpoint(path, checkpointAt(2));
    expect(loadCheckpoint(path).epoch).toBe(2);
  });
});

describe("training", () => {
  it("a missing or foreign checkpoint is reported by name", () => {
    expect(() => loadCheckpoint("no/such/checkpoint.safetensors")).toThrow(
      /no\/such\/checkpoint\.safetensors: checkpoint not found/,
    );
  });
});
