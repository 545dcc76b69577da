/**
 * The messages between the page (main.ts) and the training worker (worker.ts). Everything here is
 * plain data that structured clone copies. Every message names the run it belongs to: the page
 * starts a new run at each reset, and each side drops what belongs to an older one, so a step
 * record still in flight from before a reset never reaches the new run's charts.
 */
import type { BackendDescription } from "../src/kernels/backend.ts";

/** A backend, and for gpu the gpu.js mode ("gpu" alone: the best this browser offers). */
export type LabBackend = "cpu" | "wasm" | "gpu" | "gpu:webgl2" | "gpu:webgl" | "gpu:webgpu";

export const LAB_BACKENDS: readonly LabBackend[] = [
  "gpu",
  "gpu:webgl2",
  "gpu:webgl",
  "gpu:webgpu",
  "wasm",
  "cpu",
];

export interface LabSettings {
  backend: LabBackend;
  lr: number;
  latent: number;
  hidden: number;
  batchSize: number;
  seed: number;
  /** Train on the first N training images only (null: all 60,000). */
  limit: number | null;
}

/** The reference tutorial's settings (the CLI's defaults) on the wasm backend. */
export const DEFAULT_SETTINGS: LabSettings = {
  backend: "wasm",
  lr: 0.01,
  latent: 10,
  hidden: 200,
  batchSize: 128,
  seed: 1,
  limit: null,
};

/** One parameter's gradient at one step, as a histogram over a range chosen from its values. */
export interface GradientHistogram {
  parameter: string;
  /** The step (since the start, across epochs) the gradient is from. */
  step: number;
  /** Bin edges (one more than counts) over the range drawn: the central 99% of the non-zero values. */
  edges: number[];
  counts: number[];
  /** Entries in all, entries exactly 0, and non-zero finite entries below and above the range drawn. */
  total: number;
  zeros: number;
  below: number;
  above: number;
  /** NaN and ±Infinity entries. */
  nonFinite: number;
}

export interface GradientReport {
  /** ‖∂loss/∂p‖ for each parameter, in the order of `ready.parameters`. */
  norms: number[];
  /** The chosen parameter's gradient as a histogram, on the steps that asked for it. */
  histogram: GradientHistogram | null;
}

export interface StepRecord {
  /** Steps since the start, across epochs (1-based). */
  step: number;
  epoch: number;
  stepInEpoch: number;
  stepsInEpoch: number;
  /** −ELBO per image and its two terms, for this batch. */
  loss: number;
  bce: number;
  kl: number;
  /** Wall time of the step: forward, backward, Adam and reading the loss back. */
  ms: number;
  gradients: GradientReport;
}

export interface Views {
  /** `shown` test digits and their reconstructions (rows × cols pixels each). */
  originals: Float32Array;
  reconstructions: Float32Array;
  shown: number;
  samples: Float32Array;
  sampleCount: number;
}

export interface Reparameterization {
  index: number;
  label: number;
  image: Float32Array;
  mu: number[];
  sigma: number[];
  eps: number[];
  z: number[];
  decoded: Float32Array;
  dzdmu: number[];
  dzdlogvar: number[];
}

export type ToWorker = { run: number } & (
  | { kind: "reset"; settings: LabSettings; dataUrl: string }
  | { kind: "start" }
  | { kind: "pause" }
  | { kind: "step" }
  | { kind: "histogram"; parameter: string }
  | { kind: "latent"; points: number }
  | { kind: "reparameterize"; index: number; eps: number[] }
);

export type FromWorker = { run: number } & (
  | { kind: "status"; text: string }
  | {
      kind: "ready";
      /** What runs the backend: its describe(). */
      backend: BackendDescription;
      parameters: string[];
      trainImages: number;
      testImages: number;
      rows: number;
      cols: number;
    }
  /** The run could not start (a backend that does not start here, data that does not load), or training stopped. */
  | { kind: "failed"; message: string }
  | { kind: "steps"; records: StepRecord[] }
  | { kind: "views"; views: Views; step: number }
  | { kind: "epoch"; epoch: number; loss: number; bce: number; kl: number; testLoss: number; seconds: number }
  | { kind: "latent"; xy: Float32Array; labels: Uint8Array; seconds: number }
  /** The reparameterization of the panel's digit with the panel's ε, by the model as it is after `step` steps. */
  | { kind: "reparameterization"; result: Reparameterization; step: number }
  | { kind: "state"; running: boolean }
  | { kind: "error"; message: string }
);
