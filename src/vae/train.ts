/**
 * The training loop: for each mini-batch, forward (encode, reparameterize, decode, −ELBO),
 * backward, optimizer step. One epoch is one pass over the shuffled training set.
 */
import type { Generator } from "../autograd/random.ts";
import { scoped } from "../autograd/scope.ts";
import { fromTypedArray, type Tensor } from "../autograd/tensor.ts";
import type { TypedArray } from "../kernels/backend.ts";
import type { Optimizer } from "../nn/optim/optimizer.ts";
import { type Dataset, gatherImages, shuffledBatches } from "./dataset.ts";
import type { BernoulliVAE } from "./model.ts";

export interface StepReport {
  /** 1-based step within the epoch, and how many steps the epoch has. */
  step: number;
  steps: number;
  /** This batch's −ELBO per image, and its two terms. */
  loss: number;
  bce: number;
  kl: number;
  /** Running average over the epoch so far, per image. */
  average: number;
  /** The values of the tensors `inspect` returned this step (the lab's gradient views), else []. */
  inspected: TypedArray[];
}

/**
 * Called after backward and before the optimizer step, inside the step's scope: the tensors it
 * returns (say, functions of the parameters' gradients) are read and handed to onStep.
 */
export type Inspect = () => Tensor[];

/**
 * Training stopped because a number stopped being finite: `what` (the loss, or the tensor and its
 * first bad value) at `step` of `steps` of epoch `epoch`. The message speaks to the command line;
 * a page reads the fields and says it in its own words.
 */
export class TrainingDiverged extends Error {
  constructor(
    readonly what: string,
    readonly epoch: number,
    readonly step: number,
    readonly steps: number,
    /** What to try (default: a smaller --lr; on resume, where --lr cannot change, something else). */
    readonly hint = "try a smaller --lr",
  ) {
    super(
      `training stopped: ${what} at epoch ${epoch}, step ${step}/${steps} (${hint}); no checkpoint was written for this epoch`,
    );
  }
}

export interface EpochResult {
  epoch: number;
  /** Sum of batch losses / images: the average −ELBO per image, as the reference tutorial prints it. */
  loss: number;
  bce: number;
  kl: number;
  seconds: number;
  /** −ELBO per image of every step, for the loss plot. */
  stepLosses: number[];
}

/** One optimisation step on a batch tensor x (images × pixels): see stepOf. */
export type Step = (x: Tensor) => Tensor[];

/**
 * The optimisation step on a batch x of images (rows of `model.config.inputDim` pixels): forward,
 * backward, optimizer. All of it runs in one scope, so the noise, the graph, the gradients and the
 * optimizer's scratch are freed when it ends and every step reuses the same buffers. Returns, for
 * the caller to read (`await t.data()`) and dispose:
 *   [loss, bce, kl, probe, ...inspected]
 * the batch's loss terms (sums over the batch); `probe`, the optimizer's finiteProbe(), finite
 * exactly when every parameter and every optimizer buffer is (a non-finite gradient spreads into
 * Adam's m and v, or straight into the parameters), so one number read per step tells whether
 * training is still sound; and last the tensors `inspect` returned, if given.
 * Its work depends only on x's shape, so `compile` (src/compile) can record it and replay it.
 */
export function stepOf(
  model: BernoulliVAE,
  optimizer: Optimizer,
  generator: Generator,
  inspect?: Inspect,
): Step {
  return (x) =>
    scoped(
      () => {
        const out = model.forward(x, { generator });
        optimizer.zeroGrad();
        out.loss.backward();
        const inspected = inspect?.() ?? [];
        optimizer.step();
        return [out.loss, out.bce, out.kl, optimizer.finiteProbe(), ...inspected];
      },
      (kept) => kept,
    );
}

/** `step` (by default stepOf's) on a batch of images given as numbers; the batch tensor is freed after. */
export function trainStep(
  model: BernoulliVAE,
  optimizer: Optimizer,
  images: Float32Array,
  generator: Generator,
  inspect?: Inspect,
  step: Step = stepOf(model, optimizer, generator, inspect),
): Tensor[] {
  return scoped(
    () => step(fromTypedArray(images, [images.length / model.config.inputDim, model.config.inputDim])),
    (kept) => kept,
  );
}

/**
 * One epoch over `data`. Throws, naming the epoch, the step and the tensor, as soon as the loss,
 * a gradient, a parameter or the optimizer's state stops being finite, so a diverged run never
 * writes a checkpoint full of NaN (an overflowing Adam state can freeze parameters at finite values
 * while the loss stays finite, and relu hides NaN weights from the loss on some backends).
 *
 * Each step's numbers are read every `readEvery` steps (default 1), all at once. A read makes a
 * GPU finish everything queued before it, so reading every step would leave the device idle while
 * the host builds the next step; reading every 20 steps lets 20 steps queue up and drains the
 * queue once (the CLI does so on the gpu backend). The checks and `onStep` then run for those steps
 * in order, and training stops at the first bad one, naming it. `onStep` is awaited before the
 * next step is built, so a caller can pause there (the lab's pause and single step) or stop by throwing.
 */
export async function trainEpoch(
  model: BernoulliVAE,
  optimizer: Optimizer,
  data: Dataset,
  options: {
    epoch: number;
    batchSize: number;
    generator: Generator;
    onStep?: (s: StepReport) => void | Promise<void>;
    inspect?: Inspect;
    readEvery?: number;
    /** The step to run on each batch: stepOf's by default, or the same compiled (src/compile). */
    step?: Step;
    /** What the error suggests when training diverges at `step` (default: a smaller --lr). */
    hint?: (step: number) => string;
  },
): Promise<EpochResult> {
  const readEvery = options.readEvery ?? 1;
  const step = options.step ?? stepOf(model, optimizer, options.generator, options.inspect);
  if (!Number.isInteger(readEvery) || readEvery < 1) {
    throw new Error(`trainEpoch: readEvery must be a positive integer, got ${readEvery}`);
  }
  const start = performance.now();
  const batches = shuffledBatches(data.count, options.batchSize, options.generator);
  let total = 0;
  let totalBce = 0;
  let totalKl = 0;
  let seen = 0;
  const stepLosses: number[] = [];
  // No batch is larger than the data set: --batch-size 100000000 needs no buffer of that many images.
  const images = new Float32Array(Math.min(options.batchSize, data.count) * data.rows * data.cols);
  /** Steps run but not yet read: their number, batch size, and the tensors trainStep returned. */
  let pending: { step: number; count: number; terms: Tensor[] }[] = [];

  /** Read every pending step's numbers in one go, then check and report each in order. */
  const readPending = async () => {
    const steps = pending;
    pending = [];
    try {
      // Awaiting the values works on every backend, including those whose kernels finish later.
      const values = await Promise.all(steps.map(({ terms }) => Promise.all(terms.map((t) => t.data()))));
      for (const [i, { step, count }] of steps.entries()) {
        const [[loss], [bce], [kl], [probe], ...inspected] = values[i];
        const hint = options.hint?.(step) ?? "try a smaller --lr";
        const stop = (what: string) => new TrainingDiverged(what, options.epoch, step, batches.length, hint);
        if (!Number.isFinite(loss)) throw stop(`the loss became ${loss}`);
        if (!Number.isFinite(probe)) {
          const found = await firstNonFinite(model, optimizer);
          // null: finite values whose sum overflowed; huge, but not yet diverged.
          if (found !== null) throw stop(found);
        }
        total += loss;
        totalBce += bce;
        totalKl += kl;
        seen += count;
        stepLosses.push(loss / count);
        await options.onStep?.({
          step,
          steps: batches.length,
          loss: loss / count,
          bce: bce / count,
          kl: kl / count,
          average: total / seen,
          inspected,
        });
      }
    } finally {
      for (const { terms } of steps) for (const t of terms) t.dispose();
    }
  };

  model.train();
  try {
    for (let s = 0; s < batches.length; s++) {
      const indices = batches[s];
      const batch = gatherImages(data, indices, images);
      const terms = trainStep(model, optimizer, batch, options.generator, options.inspect, step);
      pending.push({ step: s + 1, count: indices.length, terms });
      if (pending.length === readEvery || s === batches.length - 1) await readPending();
    }
  } finally {
    for (const { terms } of pending) for (const t of terms) t.dispose();
  }
  return {
    epoch: options.epoch,
    loss: total / seen,
    bce: totalBce / seen,
    kl: totalKl / seen,
    seconds: (performance.now() - start) / 1000,
    stepLosses,
  };
}

/**
 * The first optimizer buffer or parameter holding NaN or ±Infinity, in words ("the parameter
 * fc1.weight holds NaN at index 3"), in the order a divergence spreads: optimizer state, then
 * parameters. Null when all are finite (the probe overflowed: huge values, but not yet diverged).
 */
async function firstNonFinite(model: BernoulliVAE, optimizer: Optimizer): Promise<string | null> {
  const names = new Map(model.namedParameters().map(([name, t]) => [t, name]));
  const { params } = optimizer;
  const watched = [
    ...Object.entries(optimizer.stateTensors()).flatMap(([buffer, list]) =>
      list.map((t, i) => ({ what: `the optimizer's ${buffer} of`, param: i, tensor: t })),
    ),
    ...params.map((p, i) => ({ what: "the parameter", param: i, tensor: p })),
  ];
  for (const { what, param, tensor } of watched) {
    const values = await tensor.data();
    const bad = values.findIndex((v) => !Number.isFinite(v));
    const name = names.get(params[param]) ?? `#${param}`; // "the parameter #6": not one of the model's
    if (bad >= 0) return `${what} ${name} holds ${values[bad]} at index ${bad}`;
  }
  return null;
}
