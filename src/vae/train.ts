/**
 * The training loop: for each mini-batch, forward (encode, reparameterize, decode, −ELBO),
 * backward, optimizer step. One epoch is one pass over the shuffled training set.
 */
import type { Generator } from "../autograd/random.ts";
import { scoped } from "../autograd/scope.ts";
import { fromTypedArray, type Tensor } from "../autograd/tensor.ts";
import type { Optimizer } from "../nn/optim/optimizer.ts";
import { type Dataset, gatherImages, shuffledBatches } from "./dataset.ts";
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
 * buffers. Returns the batch's [loss, bce, kl] (sums over the batch), for the caller to read
 * (`await t.data()`) and dispose.
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
      return [out.loss, out.bce, out.kl];
    },
    (kept) => kept,
  );
}

/**
 * One epoch over `data`. Throws, naming the epoch and step, as soon as the loss stops being finite,
 * so a diverged run never writes a checkpoint full of NaN.
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
    const [loss, bce, kl] = await Promise.all(terms.map((t) => t.data()));
    for (const t of terms) t.dispose();
    if (!Number.isFinite(loss[0])) {
      throw new Error(
        `training stopped: the loss became ${loss[0]} at epoch ${options.epoch}, step ${s + 1}/${batches.length} (try a smaller --lr); no checkpoint was written for this epoch`,
      );
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
