/**
 * A checkpoint's contents and its bytes: the model's weights, the optimizer's state, the random
 * generator's state and the run's history in one safetensors file, so that a resumed run continues
 * exactly where training stopped. Nothing here touches the file system (src/vae/checkpoint.ts
 * reads and writes the files in Node), so a browser page can save and load checkpoints too.
 */
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

const FORMAT = "elbo-vae-checkpoint/1";

/** The checkpoint's safetensors bytes. */
export async function encodeCheckpoint(c: Checkpoint): Promise<Uint8Array> {
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(c.weights)) tensors[`model.${name}`] = t;
  for (const [buffer, list] of Object.entries(c.optimizer.buffers)) {
    list.forEach((t, i) => {
      if (t !== null) tensors[`optimizer.${buffer}.${i}`] = t;
    });
  }
  const metadata = {
    format: FORMAT,
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
  return encodeSafetensors(tensors, metadata);
}

/** Parse a checkpoint's bytes; `file` names it in errors. Its tensors are the caller's to dispose. */
export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  if (metadata.format !== FORMAT) {
    throw new Error(`${file}: not an elbo VAE checkpoint (format "${metadata.format ?? "missing"}")`);
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
    throw new Error(`${file}: checkpoint metadata is damaged (${(e as Error).message})`);
  }
}

/** Free the checkpoint's tensors (WebAssembly and GPU memory is invisible to the garbage collector). */
export function disposeCheckpoint(c: Checkpoint): void {
  for (const t of Object.values(c.weights)) t.dispose();
  for (const list of Object.values(c.optimizer.buffers)) for (const t of list) t?.dispose();
}
