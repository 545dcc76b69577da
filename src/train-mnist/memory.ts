/**
 * The memory a run will need, estimated from its settings before any work, so that a run that
 * cannot fit is refused at once, naming the flag to change: `--hidden 100000000` used to fail with
 * "Invalid typed array length", and `--iw-k 100000000` ran out of memory after training, writing no
 * report. The estimate counts the numbers each part of the run holds at its peak (generously: the
 * point is to refuse what cannot work, not to predict a footprint):
 *   - the model: weights, gradients, Adam's two moments, and a checkpoint's copies of all three;
 *   - a training step: a batch's activations and their gradients, forward and backward;
 *   - the IWAE bound: k samples of a few images at once (at least one image: k rows);
 *   - the pictures: every test image encoded at once;
 *   - the data: the training and test images.
 * It is compared with the machine's memory (or the container's limit), with the wasm backend's
 * 2 GiB for what that backend holds, and each tensor with the 2³² numbers one array holds.
 */
import { totalmem } from "node:os";
import { constrainedMemory } from "node:process";
import type { VaeConfig } from "../vae/model.ts";

const FLOAT_BYTES = 4;
/** The most numbers one typed array holds in V8 (Node 20). */
const MAX_ARRAY_LENGTH = 2 ** 32;
/** Rows of the repeated batch evaluateIwae works on (its rowsPerBatch default). */
const IWAE_ROWS = 5000;
/** Images per batch of evaluateElbo. */
const ELBO_BATCH = 1000;

export interface RunShape {
  config: VaeConfig;
  batchSize: number;
  iwK: number;
  iwImages: number;
  trainCount: number;
  testCount: number;
}

interface Part {
  /** The flag that sets this part's size, and what to do about it. */
  flag: string;
  advice: string;
  what: string;
  /** Numbers held at this part's peak. */
  numbers: number;
  /** The largest single tensor it makes, in numbers. */
  largest: number;
}

/** The parameters of the VAE: encoder D→H→2L, decoder L→H→D, with biases. */
export function parameterCount({ inputDim: d, latentDim: l, encUnits: e, decUnits: h }: VaeConfig): number {
  return d * e + e + 2 * (e * l + l) + l * h + h + h * d + d;
}

/**
 * What each part of a run holds at its peak. A part whose rows are many (a huge batch) is blamed on
 * the flag that sets them, one whose rows are wide (a huge hidden layer) on the model's size: on
 * whichever is further from the tutorial's settings (batch 128, hidden 200, latent 10).
 */
export function memoryParts(shape: RunShape): { resident: Part; transient: Part[]; data: number } {
  const { config, iwK } = shape;
  const { inputDim: d, latentDim: l } = config;
  const h = Math.max(config.encUnits, config.decUnits);
  const p = parameterCount(config);
  const batch = Math.min(shape.batchSize, shape.trainCount);
  // x, logits and the loss's terms; both hidden layers; μ, log σ², ε, σ, z and the KL's terms.
  const activations = (rows: number) => rows * (4 * d + 2 * h + 8 * l);
  // Up to IWAE_ROWS samples of a few images at once, whatever k is; a larger k is one image's.
  const images = Math.min(shape.iwImages, shape.testCount);
  const rows = iwK * Math.min(images, Math.max(1, Math.floor(IWAE_ROWS / iwK)));
  const modelFlag = l / 10 > h / 200 ? "--latent" : "--hidden";
  const modelScale = Math.max(h / 200, l / 10);
  const sizedBy = (flag: string, scale: number, advice: string) =>
    scale >= modelScale ? { flag, advice } : { flag: modelFlag, advice: `choose a smaller ${modelFlag}` };
  return {
    resident: {
      flag: modelFlag,
      advice: `choose a smaller ${modelFlag}`,
      what: `the model's ${p} parameters with their gradients, Adam's two moments and a checkpoint's copies`,
      numbers: 7 * p,
      largest: d * h,
    },
    transient: [
      {
        ...sizedBy("--batch-size", batch / 128, "choose a smaller --batch-size"),
        what: `a training step on ${batch} images (activations and their gradients)`,
        numbers: 3 * activations(batch),
        largest: batch * Math.max(d, h),
      },
      {
        ...(iwK > IWAE_ROWS
          ? sizedBy("--iw-k", iwK / IWAE_ROWS, "choose a smaller --iw-k")
          : sizedBy("", 1, "the evaluation alone needs more than there is")),
        what: `the IWAE bound on ${rows} rows at once (k = ${iwK} samples per image)`,
        numbers: 2 * activations(rows),
        largest: rows * Math.max(d, h),
      },
      {
        ...sizedBy("--data", shape.testCount / 10_000, "use a smaller test set"),
        what: `the test −ELBO and the pictures on ${shape.testCount} test images`,
        numbers: 2 * activations(Math.min(ELBO_BATCH, shape.testCount)) + shape.testCount * (d + h + 2 * l),
        largest: shape.testCount * Math.max(d, h),
      },
    ],
    data: (shape.trainCount + shape.testCount) * d,
  };
}

/** "1.5 GB": bytes in decimal units, as a user compares them with a machine's. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${value} bytes`;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** The memory this process may use: the machine's, or its container's limit where lower. */
export function availableMemory(): number {
  const limit = constrainedMemory?.() ?? 0;
  return limit > 0 ? Math.min(limit, totalmem()) : totalmem();
}

/**
 * Throw, naming the flag that sets the largest part and its value, if the run cannot fit: a
 * tensor past what one array holds, more than `available` bytes in all, or more than
 * `backendLimit` bytes held by the backend (the wasm backend's 2 GiB). `flags` gives each flag's
 * value as typed.
 */
export function checkMemory(
  shape: RunShape,
  flags: Readonly<Record<string, string | number | undefined>>,
  limits: { available: number; backend?: { name: string; bytes: number } },
): void {
  const { resident, transient, data } = memoryParts(shape);
  const parts = [resident, ...transient];
  // "--hidden 100000000: ", or nothing for a part no flag sizes.
  const named = (part: Part) =>
    part.flag === "" ? "" : `${part.flag}${flags[part.flag] === undefined ? "" : ` ${flags[part.flag]}`}: `;
  for (const part of parts) {
    if (part.largest > MAX_ARRAY_LENGTH) {
      throw new Error(
        `${named(part)}${part.what} would need one tensor of ${part.largest} numbers, more than the ${MAX_ARRAY_LENGTH} one array holds; ${part.advice}`,
      );
    }
  }
  const peak = transient.reduce((worst, t) => (t.numbers > worst.numbers ? t : worst));
  const held = (resident.numbers + peak.numbers) * FLOAT_BYTES;
  const total = held + data * FLOAT_BYTES;
  const blame = resident.numbers >= peak.numbers ? resident : peak;
  if (total > limits.available) {
    throw new Error(
      `${named(blame)}the run would need about ${formatBytes(total)} of memory (${blame.what}: ${formatBytes(blame.numbers * FLOAT_BYTES)}), more than the ${formatBytes(limits.available)} here; ${blame.advice}`,
    );
  }
  const backend = limits.backend;
  if (backend !== undefined && held > backend.bytes) {
    throw new Error(
      `${named(blame)}the run would need about ${formatBytes(held)} on the ${backend.name} backend (${blame.what}: ${formatBytes(blame.numbers * FLOAT_BYTES)}), more than the ${formatBytes(backend.bytes)} it can hold; ${blame.advice}, or use --backend cpu`,
    );
  }
}
