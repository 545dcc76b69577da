/**
 * Checkpoints: the model's weights, the optimizer's state, the random generator's state and the
 * run's history in one safetensors file, so `--resume` continues exactly where training stopped.
 *
 * Written atomically: to a temporary file beside the target, flushed, then renamed over it. A crash
 * mid-write leaves the previous checkpoint whole instead of a truncated one.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import type { GeneratorState } from "../autograd/random.ts";
import type { Tensor } from "../autograd/tensor.ts";
import type { OptimizerState } from "../nn/optim/optimizer.ts";
import { decodeSafetensors, encodeSafetensors } from "../nn/safetensors.ts";
import type { VaeConfig } from "./model.ts";
import type { EpochResult } from "./train.ts";

export interface TrainingConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  limit: number | null;
  dataDir: string | null;
}

export interface Checkpoint {
  model: VaeConfig;
  training: TrainingConfig;
  /** Epochs completed. */
  epoch: number;
  weights: Record<string, Tensor>;
  optimizer: OptimizerState;
  generator: GeneratorState;
  history: EpochResult[];
}

/** Write `bytes` to `path` so that readers see either the old file or the whole new one. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, "w");
  try {
    writeSync(fd, typeof bytes === "string" ? Buffer.from(bytes) : bytes);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(temporary, path);
}

export async function saveCheckpoint(path: string, c: Checkpoint): Promise<void> {
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(c.weights)) tensors[`model.${name}`] = t;
  for (const [buffer, list] of Object.entries(c.optimizer.buffers)) {
    list.forEach((t, i) => {
      if (t !== null) tensors[`optimizer.${buffer}.${i}`] = t;
    });
  }
  const metadata = {
    format: "elbo-vae-checkpoint/1",
    model: JSON.stringify(c.model),
    training: JSON.stringify(c.training),
    epoch: String(c.epoch),
    optimizer: JSON.stringify({
      step: c.optimizer.step,
      buffers: Object.fromEntries(Object.entries(c.optimizer.buffers).map(([k, v]) => [k, v.length])),
    }),
    generator: JSON.stringify(c.generator),
    history: JSON.stringify(c.history),
  };
  writeFileAtomic(path, await encodeSafetensors(tensors, metadata));
}

export function loadCheckpoint(path: string): Checkpoint {
  if (!existsSync(path)) throw new Error(`${path}: checkpoint not found`);
  const { tensors, metadata } = decodeSafetensors(readFileSync(path), path);
  if (metadata.format !== "elbo-vae-checkpoint/1") {
    throw new Error(`${path}: not an elbo VAE checkpoint (format "${metadata.format ?? "missing"}")`);
  }
  try {
    const optimizer = JSON.parse(metadata.optimizer) as { step: number; buffers: Record<string, number> };
    const buffers = Object.fromEntries(
      Object.entries(optimizer.buffers).map(([name, count]) => [
        name,
        Array.from({ length: count }, (_, i) => tensors[`optimizer.${name}.${i}`] ?? null),
      ]),
    );
    const weights = Object.fromEntries(
      Object.entries(tensors)
        .filter(([n]) => n.startsWith("model."))
        .map(([n, t]) => [n.slice("model.".length), t]),
    );
    return {
      model: JSON.parse(metadata.model),
      training: JSON.parse(metadata.training),
      epoch: Number(metadata.epoch),
      weights,
      optimizer: { step: optimizer.step, buffers },
      generator: JSON.parse(metadata.generator),
      history: JSON.parse(metadata.history),
    };
  } catch (e) {
    throw new Error(`${path}: checkpoint metadata is damaged (${(e as Error).message})`);
  }
}
