/**
 * The training loop: for each mini-batch, forward (encode, reparameterize, decode, −ELBO),
 * backward, optimizer step. One epoch is one pass over the shuffled training set.
 */
import type { Generator } from "../autograd/random.ts";
import { scoped } from "../autograd/scope.ts";
import { fromTypedArray, type Tensor } from "../autograd/tensor.ts";
import type { Optimizer } from "../nn/optim/optimizer.ts";
import { type Dataset, gatherImages, shuffledBatches } from "./data.ts";
import type { BernoulliVAE } from "./model.ts";

export interface StepReport {
  /** 1-based step within the epoch, and how many steps the epoch has. */
  step: number;
  steps: number;
  /** This batch's −ELBO per image. */
  loss: number;
  /** Running average over the epoch so far, per image. */
  average: number;
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

/**
 * One optimisation step on a batch of images (rows of `model.config.inputDim` pixels): forward,
 * backward, optimizer. All of it runs in one scope, so the batch, the noise, the graph, the
 * gradients and the optimizer's scratch are freed when it ends and every step reuses the same
 * buffers. Returns the batch's [loss, bce, kl] (sums over the batch) and a health probe, for the
 * caller to read (`await t.data()`) and dispose: the probe is the sum of every gradient, parameter
 * and optimizer-state value after the step, so it is finite whenever they all are (NaN and ±Infinity
 * survive a sum), and one number read per step watches them all.
 */
export function trainStep(
  model: BernoulliVAE,
  optimizer: Optimizer,
  images: Float32Array,
  generator: Generator,
): Tensor[] {
  return scoped(
    () => {
      const x = fromTypedArray(images, [images.length / model.config.inputDim, model.config.inputDim]);
      const out = model.forward(x, { generator });
      optimizer.zeroGrad();
      out.loss.backward();
      optimizer.step();
      const watched = [
        ...optimizer.params,
        ...gradients(optimizer),
        ...Object.values(optimizer.stateTensors()).flat(),
      ];
      const probe = watched.reduce((sum, t) => sum.add(t.sum()), out.kl.mul(0));
      return [out.loss, out.bce, out.kl, probe];
    },
    (kept) => kept,
  );
}

function gradients(optimizer: Optimizer): Tensor[] {
  return optimizer.params.flatMap((p) => (p.grad === null ? [] : [p.grad]));
}

/**
 * One epoch over `data`. Throws, naming the epoch, the step and the tensor, as soon as the loss,
 * a gradient, a parameter or the optimizer's state stops being finite, so a diverged run never
 * writes a checkpoint full of NaN (an overflowing Adam state can freeze parameters at finite values
 * while the loss stays finite, and relu hides NaN weights from the loss on some backends).
 */
export async function trainEpoch(
  model: BernoulliVAE,
  optimizer: Optimizer,
  data: Dataset,
  options: { epoch: number; batchSize: number; generator: Generator; onStep?: (s: StepReport) => void },
): Promise<EpochResult> {
  const start = performance.now();
  const batches = shuffledBatches(data.count, options.batchSize, options.generator);
  let total = 0;
  let totalBce = 0;
  let totalKl = 0;
  let seen = 0;
  const stepLosses: number[] = [];
  model.train();
  for (let s = 0; s < batches.length; s++) {
    const indices = batches[s];
    const terms = trainStep(model, optimizer, gatherImages(data, indices), options.generator);
    // Awaiting the values works on every backend, including those whose kernels finish later.
    const [loss, bce, kl, probe] = await Promise.all(terms.map((t) => t.data()));
    for (const t of terms) t.dispose();
    const where = `at epoch ${options.epoch}, step ${s + 1}/${batches.length}`;
    if (!Number.isFinite(loss[0])) {
      throw new Error(
        `training stopped: the loss became ${loss[0]} ${where} (try a smaller --lr); no checkpoint was written for this epoch`,
      );
    }
    if (!Number.isFinite(probe[0])) {
      const found = await firstNonFinite(model, optimizer);
      if (found !== null) {
        throw new Error(
          `training stopped: ${found} ${where} (try a smaller --lr); no checkpoint was written for this epoch`,
        );
      }
      // Finite values whose sum overflowed: huge, but not yet diverged.
    }
    total += loss[0];
    totalBce += bce[0];
    totalKl += kl[0];
    seen += indices.length;
    stepLosses.push(loss[0] / indices.length);
    options.onStep?.({
      step: s + 1,
      steps: batches.length,
      loss: loss[0] / indices.length,
      average: total / seen,
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
 * The first tensor holding NaN or ±Infinity, as words ("the gradient of fc1.weight holds NaN at
 * index 3"), looking where a divergence starts: gradients, then optimizer state, then parameters.
 */
async function firstNonFinite(model: BernoulliVAE, optimizer: Optimizer): Promise<string | null> {
  const names = new Map(model.namedParameters().map(([name, t]) => [t, name]));
  const nameOf = (i: number) => names.get(optimizer.params[i]) ?? `parameter ${i}`;
  const candidates: [string, Tensor | null][] = [
    ...optimizer.params.map((p, i): [string, Tensor | null] => [`the gradient of ${nameOf(i)}`, p.grad]),
    ...Object.entries(optimizer.stateTensors()).flatMap(([buffer, list]) =>
      list.map((t, i): [string, Tensor | null] => [`the optimizer's ${buffer} of ${nameOf(i)}`, t]),
    ),
    ...optimizer.params.map((p, i): [string, Tensor | null] => [`the parameter ${nameOf(i)}`, p]),
  ];
  for (const [what, t] of candidates) {
    if (t === null) continue;
    const values = await t.data();
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) return `${what} holds ${values[bad]} at index ${bad}`;
  }
  return null;
}
