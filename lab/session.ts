/**
 * The lab's training session: the CLI's run (src/vae/run.ts: model, optimizer, training loop,
 * evaluation), driven step by step so a page can pause, single-step and stop it, plus the views the
 * page shows between steps. No DOM and no worker globals here, so tests run it in Node next to the CLI.
 */
import { Generator } from "../src/autograd/random.ts";
import { scoped, valuesOf } from "../src/autograd/scope.ts";
import { fromTypedArray } from "../src/autograd/tensor.ts";
import type { TypedArray } from "../src/kernels/backend.ts";
import { type Dataset, gatherImages } from "../src/vae/dataset.ts";
import type { BernoulliVAE } from "../src/vae/model.ts";
import { disposeRun, initialTestLoss, type Run, startRun, trainRun } from "../src/vae/run.ts";
import { reparameterize } from "../src/vae/sampler.ts";
import type { EpochResult, StepReport } from "../src/vae/train.ts";
import type {
  GradientHistogram,
  GradientReport,
  LabSettings,
  Reparameterization,
  StepRecord,
  Views,
} from "./protocol.ts";

/** Thrown out of onStep to end training (reset, new settings); never shown as an error. */
export class Stopped extends Error {
  constructor() {
    super("training stopped");
  }
}

/** How many test digits the reconstruction view shows, and how many prior samples. */
export const SHOWN_DIGITS = 16;
export const SHOWN_SAMPLES = 32;
const HISTOGRAM_BINS = 40;

export class LabSession {
  /** The CLI's run: model, Adam and generator made from the settings as `npm run train:mnist` makes them. */
  readonly run: Run;
  /** Parameter names in the order gradient norms are reported. */
  readonly parameterNames: string[];
  /** Steps done across epochs. */
  steps = 0;
  /** The prior samples are decoded from one fixed z, so the view shows the decoder changing. */
  private readonly priorZ: Float32Array;

  constructor(
    readonly settings: LabSettings,
    readonly train: Dataset,
    readonly test: Dataset,
  ) {
    const pixels = train.rows * train.cols;
    this.run = startRun(
      { inputDim: pixels, latentDim: settings.latent, encUnits: settings.hidden, decUnits: settings.hidden },
      {
        // The lab trains until it is stopped.
        epochs: Number.POSITIVE_INFINITY,
        batchSize: settings.batchSize,
        lr: settings.lr,
        seed: settings.seed,
        limit: settings.limit,
        dataDir: null,
      },
    );
    this.parameterNames = this.model.namedParameters().map(([name]) => name);
    // Drawn from a generator of its own, so showing samples never changes the training run.
    const viewGenerator = new Generator(settings.seed + 2);
    this.priorZ = Float32Array.from({ length: SHOWN_SAMPLES * settings.latent }, () =>
      viewGenerator.normal(),
    );
  }

  get model(): BernoulliVAE {
    return this.run.model;
  }

  /**
   * Train epoch after epoch until `onStep` throws (Stopped, to end quietly). After each epoch the
   * test loss is measured on up to 1,000 test images. Before each step `histogramOf()` names the
   * parameter whose whole gradient that step should report, or null.
   */
  async trainUntilStopped(
    onStep: (record: StepRecord) => void | Promise<void>,
    onEpoch: (result: EpochResult, testLoss: number) => void,
    histogramOf: () => string | null = () => null,
  ): Promise<void> {
    const params = this.model.namedParameters();
    let last = performance.now();
    let wanted: string | null = null;
    await trainRun(this.run, this.train, {
      inspect: () => {
        wanted = histogramOf();
        const norms = params.map(([, p]) => p.grad!.mul(p.grad!).sum());
        const chosen = params.find(([name]) => name === wanted);
        return chosen ? [...norms, chosen[1].grad!] : norms;
      },
      onStep: async (epoch, report: StepReport) => {
        this.steps++;
        await onStep({
          step: this.steps,
          epoch,
          stepInEpoch: report.step,
          stepsInEpoch: report.steps,
          loss: report.loss,
          bce: report.bce,
          kl: report.kl,
          ms: performance.now() - last,
          gradients: this.gradientReport(report.inspected, wanted),
        });
        last = performance.now();
      },
      onEpoch: async (result) => {
        const testLoss = await initialTestLoss(this.run, this.test);
        this.model.train();
        onEpoch(result, testLoss);
        last = performance.now();
      },
    });
  }

  /** Free the weights and Adam's state (WebAssembly and GPU memory is not the collector's). */
  dispose(): void {
    disposeRun(this.run);
  }

  private gradientReport(inspected: TypedArray[], histogramOf: string | null): GradientReport {
    const norms = this.parameterNames.map((_, i) => Math.sqrt(inspected[i][0]));
    const values = inspected[this.parameterNames.length];
    return {
      norms,
      histogram:
        values && histogramOf !== null
          ? { parameter: histogramOf, step: this.steps, ...histogram(values) }
          : null,
    };
  }

  /** Reconstructions of the first test digits (from the mean of q(z|x)) and decoded prior samples. */
  async views(): Promise<Views> {
    const pixels = this.test.rows * this.test.cols;
    const shown = Math.min(SHOWN_DIGITS, this.test.count);
    const originals = gatherImages(
      this.test,
      Int32Array.from({ length: shown }, (_, i) => i),
    );
    const [reconstructions, samples] = await this.evaluating(() =>
      valuesOf(() => {
        const x = fromTypedArray(originals, [shown, pixels]);
        const z = fromTypedArray(this.priorZ, [SHOWN_SAMPLES, this.settings.latent]);
        return [this.model.decode(this.model.encode(x).mu), this.model.decode(z)] as const;
      }),
    );
    return {
      originals,
      reconstructions: Float32Array.from(reconstructions),
      samples: Float32Array.from(samples),
      shown,
      sampleCount: SHOWN_SAMPLES,
    };
  }

  /** The latent means of up to `count` test images, with their digits. */
  async latentMeans(count: number): Promise<{ means: Float32Array; labels: Uint8Array; dim: number }> {
    const n = Math.min(count, this.test.count);
    const pixels = this.test.rows * this.test.cols;
    const [means] = await this.evaluating(() =>
      valuesOf(() => [
        this.model.encode(fromTypedArray(this.test.images.subarray(0, n * pixels), [n, pixels])).mu,
      ]),
    );
    return {
      means: Float32Array.from(means),
      labels: this.test.labels.slice(0, n),
      dim: this.settings.latent,
    };
  }

  /**
   * The reparameterization of test image `index` with noise `eps`: μ and σ of q(z|x), z = μ + σ ⊙ ε,
   * the image decoded from z, and ∂z/∂μ and ∂z/∂logvar computed by backward() (z's i-th entry
   * depends only on μᵢ and logvarᵢ, so the gradient of Σ z holds the Jacobian's diagonal).
   */
  async reparameterization(index: number, eps: number[]): Promise<Reparameterization> {
    const latent = this.settings.latent;
    if (eps.length !== latent)
      throw new Error(`reparameterization: ε has ${eps.length} entries, not ${latent}`);
    if (!Number.isInteger(index) || index < 0 || index >= this.test.count) {
      throw new Error(`reparameterization: test image ${index} is outside 0..${this.test.count - 1}`);
    }
    const pixels = this.test.rows * this.test.cols;
    const image = this.test.images.slice(index * pixels, (index + 1) * pixels);
    return this.evaluating(async () => {
      const [mu, logvar] = await valuesOf(() => {
        const code = this.model.encode(fromTypedArray(image, [1, pixels]));
        return [code.mu, code.logvar] as const;
      });
      const kept = scoped(
        () => {
          const muLeaf = fromTypedArray(Float32Array.from(mu), [1, latent], { requiresGrad: true });
          const logvarLeaf = fromTypedArray(Float32Array.from(logvar), [1, latent], { requiresGrad: true });
          const z = reparameterize(muLeaf, logvarLeaf, fromTypedArray(Float32Array.from(eps), [1, latent]));
          z.sum().backward();
          return [z.detach(), this.model.decode(z.detach()), muLeaf.grad!, logvarLeaf.grad!];
        },
        (tensors) => tensors,
      );
      try {
        const [z, decoded, dzdmu, dzdlogvar] = await Promise.all(kept.map((t) => t.data()));
        return {
          index,
          label: this.test.labels[index],
          image,
          mu: Array.from(mu),
          sigma: Array.from(logvar, (v) => Math.exp(v / 2)),
          eps,
          z: Array.from(z),
          decoded: Float32Array.from(decoded),
          dzdmu: Array.from(dzdmu),
          dzdlogvar: Array.from(dzdlogvar),
        };
      } finally {
        for (const t of kept) t.dispose();
      }
    });
  }

  /** Run `fn` with the model in eval mode and put it back in train mode after. */
  private async evaluating<T>(fn: () => Promise<T>): Promise<T> {
    this.model.eval();
    try {
      return await fn();
    } finally {
      this.model.train();
    }
  }
}

/** At most this many values are sorted to find the range a histogram draws. */
const RANGE_SAMPLE = 20000;
/** The share of the non-zero values left out of the range at each end. */
const TAIL = 0.005;

/**
 * A gradient's values as a histogram a person can read. Entries exactly 0 are counted apart (on
 * MNIST many are: weights from pixels that are 0 in every image of the batch, units that ReLU
 * switched off), else they are one bar that dwarfs the rest. The range drawn is chosen from the
 * data at each step: from the 0.5th to the 99.5th percentile of the non-zero values (found on an
 * evenly spaced sample of at most RANGE_SAMPLE of them), so a few outliers do not squeeze the
 * distribution into one bar; the values outside it are counted as below and above.
 */
export function histogram(values: TypedArray): Omit<GradientHistogram, "parameter" | "step"> {
  let zeros = 0;
  let nonFinite = 0;
  for (const v of values) {
    if (v === 0) zeros++;
    else if (!Number.isFinite(v)) nonFinite++;
  }
  const nonZero = values.length - zeros - nonFinite;
  const empty = { edges: [], counts: [], total: values.length, zeros, below: 0, above: 0, nonFinite };
  if (nonZero === 0) return empty;
  const stride = Math.max(1, Math.floor(nonZero / RANGE_SAMPLE));
  const sample: number[] = [];
  let seen = 0;
  for (const v of values) {
    if (v === 0 || !Number.isFinite(v)) continue;
    if (seen++ % stride === 0) sample.push(v);
  }
  sample.sort((a, b) => a - b);
  const at = (q: number) => sample[Math.min(sample.length - 1, Math.floor(q * sample.length))];
  let lo = at(TAIL);
  let hi = at(1 - TAIL);
  if (hi <= lo) {
    // One value (or nearly): a range around it.
    const half = Math.abs(lo) / 2 || 1;
    lo -= half;
    hi += half;
  }
  const width = (hi - lo) / HISTOGRAM_BINS;
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  let below = 0;
  let above = 0;
  for (const v of values) {
    if (v === 0 || !Number.isFinite(v)) continue;
    if (v < lo) below++;
    else if (v > hi) above++;
    else counts[Math.min(HISTOGRAM_BINS - 1, Math.floor((v - lo) / width))]++;
  }
  const edges = Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => lo + i * width);
  return { ...empty, edges, counts, below, above };
}
