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

/**
 * One optimisation step on a batch of images (rows of `model.config.inputDim` pixels): forward,
 * backward, optimizer. All of it runs in one scope, so the batch, the noise, the graph, the
 * gradients and the optimizer's scratch are freed when it ends and every step reuses the same
 * buffers. Returns, for the caller to read (`await t.data()`) and dispose:
 *   [loss, bce, kl, probe, ...inspected]
 * the batch's loss terms (sums over the batch); `probe`, the optimizer's finiteProbe(), finite
 * exactly when every parameter and every optimizer buffer is (a non-finite gradient spreads into
 * Adam's m and v, or straight into the parameters), so one number read per step tells whether
 * training is still sound; and last the tensors `inspect` returned, if given.
 */
export function trainStep(
  model: BernoulliVAE,
  optimizer: Optimizer,
  images: Float32Array,
  generator: Generator,
  inspect?: Inspect,
): Tensor[] {
  return scoped(
    () => {
      const x = fromTypedArray(images, [images.length / model.config.inputDim, model.config.inputDim]);
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

/**
 * One epoch over `data`. Throws, naming the epoch, the step and the tensor, as soon as the loss,
 * a gradient, a parameter or the optimizer's state stops being finite, so a diverged run never
 * writes a checkpoint full of NaN (an overflowing Adam state can freeze parameters at finite values
 * while the loss stays finite, and relu hides NaN weights from the loss on some backends).
 * `onStep` is awaited before the next step, so a caller can pause there (the lab's pause and
 * single step) or stop by throwing.
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
  },
): Promise<EpochResult> {
  const start = performance.now();
  const batches = shuffledBatches(data.count, options.batchSize, options.generator);
  let total = 0;
  let totalBce = 0;
  let totalKl = 0;
  let seen = 0;
  const stepLosses: number[] = [];
  const images = new Float32Array(options.batchSize * data.rows * data.cols);
  model.train();
  for (let s = 0; s < batches.length; s++) {
    const indices = batches[s];
    const batch = gatherImages(data, indices, images);
    const terms = trainStep(model, optimizer, batch, options.generator, options.inspect);
    // Awaiting the values works on every backend, including those whose kernels finish later.
    const [loss, bce, kl, probe] = await Promise.all(terms.slice(0, 4).map((t) => t.data()));
    let inspected: TypedArray[] = [];
    const where = `at epoch ${options.epoch}, step ${s + 1}/${batches.length}`;
    const stop = (what: string) =>
      new Error(
        `training stopped: ${what} ${where} (try a smaller --lr); no checkpoint was written for this epoch`,
      );
    try {
      if (!Number.isFinite(loss[0])) throw stop(`the loss became ${loss[0]}`);
      if (!Number.isFinite(probe[0])) {
        const found = await firstNonFinite(model, optimizer);
        // null: finite values whose sum overflowed; huge, but not yet diverged.
        if (found !== null) throw stop(found);
      }
      inspected = await Promise.all(terms.slice(4).map((t) => t.data()));
    } finally {
      for (const t of terms) t.dispose();
    }
    total += loss[0];
    totalBce += bce[0];
    totalKl += kl[0];
    seen += indices.length;
    stepLosses.push(loss[0] / indices.length);
    await options.onStep?.({
      step: s + 1,
      steps: batches.length,
      loss: loss[0] / indices.length,
      bce: bce[0] / indices.length,
      kl: kl[0] / indices.length,
      average: total / seen,
      inspected,
    });
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
    const name = names.get(params[param]) ?? `parameter ${param}`;
    if (bad >= 0) return `${what} ${name} holds ${values[bad]} at index ${bad}`;
  }
  return null;
}
