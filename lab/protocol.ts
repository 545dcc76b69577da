/**
 * The messages between the page (main.ts) and the training worker (worker.ts). Everything here is
 * plain data that structured clone copies.
 */
/** A backend, and for gpu the gpu.js mode ("gpu" alone: the best this browser offers). */
export type LabBackend = "cpu" | "wasm" | "gpu" | "gpu:webgl2" | "gpu:webgl" | "gpu:webgpu";

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

export interface GradientReport {
  /** ‖∂loss/∂p‖ for each parameter, in the order of `ready.parameters`. */
  norms: number[];
  /** The chosen parameter's gradient as a histogram, on the steps that asked for it. */
  histogram: { parameter: string; edges: number[]; counts: number[] } | null;
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

export type ToWorker =
  | { kind: "reset"; settings: LabSettings; dataUrl: string }
  | { kind: "start" }
  | { kind: "pause" }
  | { kind: "step" }
  | { kind: "histogram"; parameter: string }
  | { kind: "latent"; points: number }
  | { kind: "reparameterize"; index: number; eps: number[] };

export type FromWorker =
  | { kind: "status"; text: string }
  | {
      kind: "ready";
      backend: string;
      /** What runs it: threads, or gpu.js's mode and the renderer. */
      detail: string;
      parameters: string[];
      trainImages: number;
      testImages: number;
      rows: number;
      cols: number;
    }
  | { kind: "steps"; records: StepRecord[] }
  | { kind: "views"; views: Views; step: number }
  | { kind: "epoch"; epoch: number; loss: number; bce: number; kl: number; testLoss: number; seconds: number }
  | { kind: "latent"; xy: Float32Array; labels: Uint8Array; seconds: number }
  | { kind: "reparameterization"; result: Reparameterization }
  | { kind: "state"; running: boolean }
  | { kind: "error"; message: string };
