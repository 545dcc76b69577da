/**
 * A checkpoint's contents and its bytes: the model's weights, the optimizer's state, the random
 * generator's state and the run's history in one safetensors file, so that a resumed run continues
 * exactly where training stopped. Nothing here touches the file system (src/train-mnist/checkpoint.ts
 * reads and writes the files in Node), so a browser page can save and load checkpoints too.
 */
import { checkGeneratorState, type GeneratorState } from "../autograd/random.ts";
import { fromTypedArray, type Tensor } from "../autograd/tensor.ts";
import type { OptimizerState } from "../nn/optim/optimizer.ts";
import { encodeSafetensors, parseSafetensors } from "../nn/safetensors.ts";
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

/** Version 2 adds the checksum. */
const FORMAT = "elbo-vae-checkpoint/2";

/** The checkpoint's safetensors bytes; refuses, naming the tensor, weights or state that are not finite. */
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
  // Nothing non-finite is ever saved: a checkpoint must be one a run can continue from.
  return encodeSafetensors(tensors, metadata, { finiteOnly: true, checksum: true });
}

export interface DecodeOptions {
  /** Accept weights or optimizer state that hold NaN or ±Infinity (to inspect a diverged run). */
  allowNonFinite?: boolean;
}

/**
 * Parse a checkpoint's bytes and check everything before a tensor is made: the safetensors layout,
 * every metadata field's type, the history, the generator state, every optimizer buffer present,
 * and (unless allowed) only finite values. `file` names it in errors. The tensors are the caller's
 * to dispose (startRun does). That the tensors fit the model is checked when they are loaded.
 */
export function decodeCheckpoint(bytes: Uint8Array, file: string, options: DecodeOptions = {}): Checkpoint {
  const { entries, metadata } = parseSafetensors(bytes, file);
  const fail = (what: string): never => {
    throw new Error(`${file}: damaged checkpoint: ${what}`);
  };
  if (metadata.format !== FORMAT) {
    throw new Error(`${file}: not an elbo VAE checkpoint (format "${metadata.format ?? "missing"}")`);
  }
  if (metadata.crc32 === undefined) fail("it has no checksum (crc32)");
  const json = (key: string): unknown => {
    if (metadata[key] === undefined) return fail(`metadata "${key}" is missing`);
    try {
      return JSON.parse(metadata[key]);
    } catch (e) {
      return fail(`metadata "${key}" is not JSON (${(e as Error).message})`);
    }
  };
  const model = checkFields(json("model"), "model", fail, {
    inputDim: isPositiveInt,
    latentDim: isPositiveInt,
    encUnits: isPositiveInt,
    decUnits: isPositiveInt,
  }) as unknown as VaeConfig;
  const training = checkFields(json("training"), "training", fail, {
    epochs: isPositiveInt,
    batchSize: isPositiveInt,
    lr: (x) => typeof x === "number" && Number.isFinite(x) && x > 0,
    seed: Number.isSafeInteger,
    limit: (x) => x === null || isPositiveInt(x),
    dataDir: (x) => x === null || typeof x === "string",
  }) as unknown as TrainingConfig;
  if (!/^\d+$/.test(String(metadata.epoch))) fail(`epoch "${metadata.epoch}" is not a whole number`);
  const epoch = Number(metadata.epoch);
  if (epoch > training.epochs)
    fail(`epoch ${epoch} is past the ${training.epochs} epochs the run was set to train`);
  const history = json("history");
  if (!Array.isArray(history) || history.length !== epoch) {
    fail(`history must list the ${epoch} completed epochs`);
  }
  for (const [i, h] of (history as unknown[]).entries()) {
    checkFields(h, `history[${i}]`, fail, {
      epoch: (x) => x === i + 1,
      loss: Number.isFinite,
      bce: Number.isFinite,
      kl: Number.isFinite,
      seconds: (x) => Number.isFinite(x) && (x as number) >= 0,
      stepLosses: (x) => Array.isArray(x) && x.every(Number.isFinite),
    });
  }
  const generator = json("generator");
  try {
    checkGeneratorState(generator);
  } catch (e) {
    fail((e as Error).message);
  }
  const optimizer = checkFields(json("optimizer"), "optimizer", fail, {
    step: (x) => Number.isSafeInteger(x) && (x as number) >= 0,
    buffers: (x) =>
      typeof x === "object" && x !== null && !Array.isArray(x) && Object.values(x).every(isPositiveInt),
  }) as { step: number; buffers: Record<string, number> };

  const expected = new Set<string>();
  for (const [name, count] of Object.entries(optimizer.buffers)) {
    for (let i = 0; i < count; i++) expected.add(`optimizer.${name}.${i}`);
  }
  for (const name of expected) if (!(name in entries)) fail(`tensor ${name} is missing`);
  for (const [name, { data }] of Object.entries(entries)) {
    if (!name.startsWith("model.") && !expected.has(name)) fail(`tensor ${name} is not part of a checkpoint`);
    if (options.allowNonFinite !== true) {
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) {
        throw new Error(
          `${file}: tensor ${name} holds ${data[bad]} at index ${bad}: a checkpoint of a diverged run is refused (--allow-non-finite loads it anyway)`,
        );
      }
    }
  }

  const tensors = Object.fromEntries(
    Object.entries(entries).map(([name, { data, shape }]) => [name, fromTypedArray(data, shape)]),
  );
  const weights = Object.fromEntries(
    Object.entries(tensors)
      .filter(([n]) => n.startsWith("model."))
      .map(([n, t]) => [n.slice("model.".length), t]),
  );
  const buffers = Object.fromEntries(
    Object.entries(optimizer.buffers).map(([name, count]) => [
      name,
      Array.from({ length: count }, (_, i) => tensors[`optimizer.${name}.${i}`]),
    ]),
  );
  return {
    model,
    training,
    epoch,
    weights,
    optimizer: { step: optimizer.step, buffers },
    generator: generator as GeneratorState,
    history: history as EpochResult[],
  };
}

/** `value` as an object whose listed fields each pass their check (other fields are ignored). */
function checkFields(
  value: unknown,
  what: string,
  fail: (what: string) => never,
  checks: Record<string, (x: unknown) => boolean>,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(`${what} must be an object, got ${JSON.stringify(value)}`);
  }
  const record = value as Record<string, unknown>;
  for (const [field, check] of Object.entries(checks)) {
    if (!check(record[field])) fail(`${what}.${field} is ${JSON.stringify(record[field]) ?? "missing"}`);
  }
  return record;
}

function isPositiveInt(x: unknown): boolean {
  return Number.isSafeInteger(x) && (x as number) > 0;
}

/** Free the checkpoint's tensors (WebAssembly and GPU memory is invisible to the garbage collector). */
export function disposeCheckpoint(c: Checkpoint): void {
  for (const t of Object.values(c.weights)) t.dispose();
  for (const list of Object.values(c.optimizer.buffers)) for (const t of list) t?.dispose();
}
