/**
 * A checkpoint's contents and its bytes: the model's weights, the optimizer's state, the random
 * generator's state, the run's history and a fingerprint of its data in one safetensors file, so
 * that a resumed run continues exactly where training stopped, on the same data. Nothing here
 * touches the file system (src/train-mnist/checkpoint.ts reads and writes the files in Node), so a
 * browser page can save and load checkpoints too.
 *
 * Whatever grows with the run (the losses of every step and epoch) is stored as tensors, not in the
 * header, so no run is too long for the header's 100 MB. The writer checks what it writes with the
 * reader's own checks: a checkpoint that is saved can be loaded.
 */
import { checkGeneratorState, type GeneratorState } from "../autograd/random.ts";
import { fromTypedArray, type Tensor } from "../autograd/tensor.ts";
import type { DType, TypedArray } from "../kernels/backend.ts";
import type { OptimizerState } from "../nn/optim/optimizer.ts";
import {
  type ByteSource,
  encodeEntries,
  indexOfNonFinite,
  joinParts,
  parseSafetensors,
  type SafetensorsEntry,
} from "../nn/safetensors.ts";
import type { DataFingerprint, SplitFingerprint } from "./dataset.ts";
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
  /** The training and test data the run used; absent when it was not recorded (older checkpoints). */
  data?: DataFingerprint;
}

/** Version 3 checksums the whole file, keeps the history in tensors and adds the data's fingerprint. */
const FORMAT = "elbo-vae-checkpoint/3";
/** Version 2 (checksum of metadata and data, history in the header) is still read. */
const FORMAT_2 = "elbo-vae-checkpoint/2";

/** The history's tensors: one float64 value per epoch, and every step's loss one after another. */
const HISTORY = {
  loss: "history.loss",
  bce: "history.bce",
  kl: "history.kl",
  seconds: "history.seconds",
  steps: "history.steps",
  stepLosses: "history.step_losses",
} as const;

/** The checkpoint's safetensors bytes in one array (see encodeCheckpointParts). */
export async function encodeCheckpoint(c: Checkpoint): Promise<Uint8Array> {
  return joinParts(await encodeCheckpointParts(c));
}

/**
 * The checkpoint as parts to write one after another (a large model's does not fit one array).
 * Refuses, naming it, whatever the reader would refuse: a weight or state that is not finite, a
 * field out of range, an optimizer buffer not yet made.
 */
export async function encodeCheckpointParts(c: Checkpoint): Promise<Uint8Array[]> {
  const entries: Record<string, SafetensorsEntry> = {};
  const add = async (name: string, t: Tensor) => {
    entries[name] = { data: await t.data(), shape: [...t.shape] };
  };
  for (const [name, t] of Object.entries(c.weights)) await add(`model.${name}`, t);
  for (const [buffer, list] of Object.entries(c.optimizer.buffers)) {
    for (const [i, t] of list.entries()) {
      if (t === null)
        throw new Error(
          `checkpoint: optimizer buffer ${buffer} has no tensor for parameter ${i} yet; save after a step`,
        );
      await add(`optimizer.${buffer}.${i}`, t);
    }
  }
  const perEpoch = (value: (e: EpochResult) => number) => ({
    data: Float64Array.from(c.history, value),
    shape: [c.history.length],
  });
  entries[HISTORY.loss] = perEpoch((e) => e.loss);
  entries[HISTORY.bce] = perEpoch((e) => e.bce);
  entries[HISTORY.kl] = perEpoch((e) => e.kl);
  entries[HISTORY.seconds] = perEpoch((e) => e.seconds);
  entries[HISTORY.steps] = perEpoch((e) => e.stepLosses.length);
  const stepLosses = new Float64Array(c.history.reduce((n, e) => n + e.stepLosses.length, 0));
  let at = 0;
  for (const e of c.history) {
    stepLosses.set(e.stepLosses, at);
    at += e.stepLosses.length;
  }
  entries[HISTORY.stepLosses] = { data: stepLosses, shape: [stepLosses.length] };
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
    data: JSON.stringify(c.data ?? null),
  };
  readContents(entries, metadata, (what) => {
    throw new Error(`checkpoint: cannot be saved: ${what}`);
  });
  // Nothing non-finite is ever saved: a checkpoint must be one a run can continue from.
  return encodeEntries(entries, metadata, { finiteOnly: true, checksum: true });
}

export interface DecodeOptions {
  /** Accept weights or optimizer state that hold NaN or ±Infinity (to inspect a diverged run). */
  allowNonFinite?: boolean;
  /**
   * The model's dtype (float32, BernoulliVAE's default, unless given). Weights and state stored in
   * another dtype are converted when that loses nothing, and refused otherwise.
   */
  dtype?: DType;
}

/**
 * Parse a checkpoint (its bytes, or a ByteSource over its file) and check everything before a
 * tensor is made: the safetensors layout and checksum, every metadata field's type, the history,
 * the generator state, every optimizer buffer present, the dtype, and (unless allowed) only
 * finite values. `file` names it in errors. The tensors are the caller's to dispose (startRun
 * does). That the tensors fit the model is checked when they are loaded.
 */
export function decodeCheckpoint(
  bytes: Uint8Array | ByteSource,
  file: string,
  options: DecodeOptions = {},
): Checkpoint {
  const { entries, metadata } = parseSafetensors(bytes, file);
  const fail = (what: string): never => {
    throw new Error(`${file}: damaged checkpoint: ${what}`);
  };
  if (metadata.format !== FORMAT && metadata.format !== FORMAT_2) {
    throw new Error(`${file}: not an elbo VAE checkpoint (format "${metadata.format ?? "missing"}")`);
  }
  if (metadata[metadata.format === FORMAT ? "file_crc32" : "crc32"] === undefined) fail("it has no checksum");
  const contents = readContents(entries, metadata, fail);

  const dtype = options.dtype ?? "float32";
  const tensors: Record<string, Tensor> = {};
  for (const [name, { data, shape }] of Object.entries(entries)) {
    if (name.startsWith("history.")) continue;
    const values = convert(data, dtype, (index) =>
      fail(
        `tensor ${name} is ${data instanceof Float64Array ? "float64" : "float32"} and its value ${data[index]} at index ${index} does not fit the model's ${dtype}; a checkpoint in another dtype loads only when converting it loses nothing`,
      ),
    );
    // Checked after the conversion: what the model gets must be finite.
    if (options.allowNonFinite !== true) {
      const bad = indexOfNonFinite(values);
      if (bad >= 0) {
        throw new Error(
          `${file}: tensor ${name} holds ${values[bad]} at index ${bad}: a checkpoint of a diverged run is refused (--allow-non-finite loads it anyway)`,
        );
      }
    }
    tensors[name] = fromTypedArray(values, shape);
  }
  const weights = Object.fromEntries(
    Object.entries(tensors)
      .filter(([n]) => n.startsWith("model."))
      .map(([n, t]) => [n.slice("model.".length), t]),
  );
  const buffers = Object.fromEntries(
    Object.entries(contents.buffers).map(([name, count]) => [
      name,
      Array.from({ length: count }, (_, i) => tensors[`optimizer.${name}.${i}`]),
    ]),
  );
  return {
    model: contents.model,
    training: contents.training,
    epoch: contents.epoch,
    weights,
    optimizer: { step: contents.step, buffers },
    generator: contents.generator,
    history: contents.history,
    ...(contents.data === undefined ? {} : { data: contents.data }),
  };
}

/** `data` in `dtype`: the same array, or a converted copy when every value survives the conversion. */
function convert(data: TypedArray, dtype: DType, lossy: (index: number) => never): TypedArray {
  if (dtype === "float64") return data instanceof Float64Array ? data : Float64Array.from(data);
  if (data instanceof Float32Array) return data;
  const converted = Float32Array.from(data);
  for (let i = 0; i < data.length; i++) {
    // NaN stays NaN; everything else must come back the same (1e300 would become Infinity).
    if (converted[i] !== data[i] && !Number.isNaN(data[i])) lossy(i);
  }
  return converted;
}

interface Contents {
  model: VaeConfig;
  training: TrainingConfig;
  epoch: number;
  step: number;
  buffers: Record<string, number>;
  generator: GeneratorState;
  history: EpochResult[];
  data: DataFingerprint | undefined;
}

/**
 * The checks the reader and the writer share: every metadata field, the tensors a checkpoint has
 * and no others, and the history. `fail` throws, saying what is wrong.
 */
function readContents(
  entries: Readonly<Record<string, SafetensorsEntry>>,
  metadata: Readonly<Record<string, string>>,
  fail: (what: string) => never,
): Contents {
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
  const generator = json("generator");
  try {
    checkGeneratorState(generator);
  } catch (e) {
    fail((e as Error).message);
  }
  const tensorCount = Object.keys(entries).length;
  const optimizer = checkFields(json("optimizer"), "optimizer", fail, {
    step: (x) => Number.isSafeInteger(x) && (x as number) >= 0,
    // No more tensors than the file holds: a damaged count must not make a loop of billions.
    buffers: (x) =>
      typeof x === "object" &&
      x !== null &&
      !Array.isArray(x) &&
      Object.values(x).every((n) => Number.isSafeInteger(n) && n >= 0 && n <= tensorCount),
  }) as { step: number; buffers: Record<string, number> };

  const version3 = metadata.format === FORMAT;
  const expected = new Set<string>(version3 ? Object.values(HISTORY) : []);
  for (const [name, count] of Object.entries(optimizer.buffers)) {
    for (let i = 0; i < count; i++) expected.add(`optimizer.${name}.${i}`);
  }
  for (const name of expected) if (!(name in entries)) fail(`tensor ${name} is missing`);
  for (const name of Object.keys(entries)) {
    if (!name.startsWith("model.") && !expected.has(name)) fail(`tensor ${name} is not part of a checkpoint`);
  }
  // Adam's v is a running mean of squared gradients: a negative one is damage, and diverges at once.
  for (let i = 0; i < (optimizer.buffers.v ?? 0); i++) {
    const values = entries[`optimizer.v.${i}`].data;
    const bad = values.findIndex((x) => x < 0);
    if (bad >= 0)
      fail(`tensor optimizer.v.${i} holds ${values[bad]} at index ${bad}, but Adam's v is never negative`);
  }
  const history = version3
    ? historyOf(entries, epoch, fail)
    : historyOfVersion2(json("history"), epoch, fail);
  const data = version3 ? json("data") : null;
  if (data !== null) {
    checkFields(data, "data", fail, {});
    const split = (what: "train" | "test") =>
      checkFields((data as Record<string, unknown>)[what], `data.${what}`, fail, {
        count: isPositiveInt,
        rows: isPositiveInt,
        cols: isPositiveInt,
        crc32: (x) => typeof x === "string" && /^[0-9a-f]{8}$/.test(x),
      }) as unknown as SplitFingerprint;
    split("train");
    split("test");
  }
  return {
    model,
    training,
    epoch,
    step: optimizer.step,
    buffers: optimizer.buffers,
    generator: generator as GeneratorState,
    history,
    data: data === null ? undefined : (data as DataFingerprint),
  };
}

/** The history from its tensors: one float64 value per epoch, and every step's loss. */
function historyOf(
  entries: Readonly<Record<string, SafetensorsEntry>>,
  epochs: number,
  fail: (what: string) => never,
): EpochResult[] {
  const column = (name: string, length: number, valid: (x: number) => boolean, what: string) => {
    const { data, shape } = entries[name];
    if (!(data instanceof Float64Array) || shape.length !== 1 || shape[0] !== length)
      fail(`tensor ${name} must be float64 of shape [${length}]`);
    const bad = data.findIndex((x) => !valid(x));
    if (bad >= 0) fail(`tensor ${name} holds ${data[bad]} at index ${bad}, not ${what}`);
    return data;
  };
  const finite = (name: string) => column(name, epochs, Number.isFinite, "a finite number");
  const [loss, bce, kl] = [finite(HISTORY.loss), finite(HISTORY.bce), finite(HISTORY.kl)];
  const seconds = column(HISTORY.seconds, epochs, (x) => x >= 0 && x < Infinity, "a duration");
  const steps = column(HISTORY.steps, epochs, (x) => Number.isSafeInteger(x) && x > 0, "a count of steps");
  const total = steps.reduce((n, s) => n + s, 0);
  const stepLosses = column(HISTORY.stepLosses, total, Number.isFinite, "a finite number");
  const history: EpochResult[] = [];
  let at = 0;
  for (let e = 0; e < epochs; e++) {
    const epochLosses = Array.from(stepLosses.subarray(at, at + steps[e]));
    at += steps[e];
    history.push({
      epoch: e + 1,
      loss: loss[e],
      bce: bce[e],
      kl: kl[e],
      seconds: seconds[e],
      stepLosses: epochLosses,
    });
  }
  return history;
}

/** The history as version 2 kept it: a JSON list in the header. */
function historyOfVersion2(history: unknown, epoch: number, fail: (what: string) => never): EpochResult[] {
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
  return history as EpochResult[];
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
