/**
 * A training run without files: the model, optimizer and generator made from a config (or restored
 * from a checkpoint), the epochs, the evaluation and the values the pictures show. It needs only
 * tensors and Datasets, so the command line (src/train-mnist/train-mnist.ts, which reads data files and
 * writes the checkpoint and report) and a browser page drive the same loop.
 *
 * Every tensor made here for a checkpoint, an evaluation or a picture is freed when done: the
 * garbage collector does not see WebAssembly or GPU memory, so memory stays flat over any number
 * of epochs on every backend.
 */

import { randn } from "../autograd/create.ts";
import { Generator } from "../autograd/random.ts";
import { scoped, valuesOf } from "../autograd/scope.ts";
import { fromTypedArray, type Tensor } from "../autograd/tensor.ts";
import { compile } from "../compile/compile.ts";
import type { TypedArray } from "../kernels/backend.ts";
import { formatShape, sameShape } from "../kernels/shape.ts";
import { Adam } from "../nn/optim/adam.ts";
import type { OptimizerState } from "../nn/optim/optimizer.ts";
import { joinParts } from "../nn/safetensors.ts";
import {
  type Checkpoint,
  disposeCheckpoint,
  encodeCheckpointParts,
  type TrainingConfig,
} from "./checkpoint-format.ts";
import { type DataFingerprint, type Dataset, gatherImages } from "./dataset.ts";
import {
  type ElboEvaluation,
  evaluateElbo,
  evaluateIwae,
  type IwaeEvaluation,
  type OnBatch,
} from "./evaluate.ts";
import { BernoulliVAE, type VaeConfig } from "./model.ts";
import { type EpochResult, type Inspect, type StepReport, stepOf, trainEpoch } from "./train.ts";

export interface Run {
  readonly config: VaeConfig;
  readonly training: TrainingConfig;
  readonly model: BernoulliVAE;
  readonly optimizer: Adam;
  /** Draws the initial weights, the shuffling and the training noise, in that order. */
  readonly generator: Generator;
  /** One entry per completed epoch. */
  readonly history: EpochResult[];
  /** The data it trains and is tested on, saved in its checkpoints so a resumed run can check it. */
  readonly data?: DataFingerprint;
}

/**
 * A fresh run, or, given a checkpoint, the run it saved (its tensors are copied in and then freed,
 * so the checkpoint must not be used afterwards). `data` is what its checkpoints record of the data.
 */
export function startRun(
  config: VaeConfig,
  training: TrainingConfig,
  from?: Checkpoint,
  data?: DataFingerprint,
): Run {
  const generator = new Generator(training.seed);
  const model = new BernoulliVAE(config, { generator });
  const optimizer = new Adam(model.parameters(), { lr: training.lr });
  const history: EpochResult[] = [];
  if (from !== undefined) {
    try {
      // The conversions loading makes are scratch: the scope frees them.
      scoped(
        () => {
          model.loadStateDict(from.weights);
          checkBuffersFit(from.optimizer, optimizer.params);
          optimizer.loadStateDict(from.optimizer);
        },
        () => [],
      );
    } finally {
      disposeCheckpoint(from);
    }
    generator.setState(from.generator);
    for (const epoch of from.history) history.push(epoch);
  }
  return { config, training, model, optimizer, generator, history, ...(data === undefined ? {} : { data }) };
}

/** Every optimizer buffer present, with the exact shape of its parameter (a transposed one would load). */
function checkBuffersFit(state: OptimizerState, params: readonly Tensor[]): void {
  for (const [name, list] of Object.entries(state.buffers)) {
    if (list.length !== params.length) {
      throw new Error(`optimizer buffer ${name} has ${list.length} tensors for ${params.length} parameters`);
    }
    list.forEach((t, i) => {
      if (t === null) throw new Error(`optimizer.${name}.${i} is missing`);
      if (!sameShape(t.shape, params[i].shape)) {
        throw new Error(
          `optimizer.${name}.${i} has shape ${formatShape(t.shape)} but its parameter has ${formatShape(params[i].shape)}`,
        );
      }
    });
  }
}

/** Free the run's weights and optimizer state (a page that starts another run frees the last one). */
export function disposeRun(run: Run): void {
  for (const p of run.optimizer.params) {
    p.grad?.dispose();
    p.dispose();
  }
  for (const list of Object.values(run.optimizer.stateTensors())) for (const t of list) t.dispose();
}

export interface TrainOptions {
  /** After every step, with the epoch it belongs to; awaited (a page pauses here, or stops by throwing). */
  onStep?: (epoch: number, report: StepReport) => void | Promise<void>;
  /** Tensors to read after each backward (the lab's gradient views): see train.ts. */
  inspect?: Inspect;
  /** After every epoch, awaited before the next starts (the CLI writes its checkpoint here). */
  onEpoch?: (result: EpochResult) => void | Promise<void>;
  /** Read the steps' numbers every this many steps (default 1): see trainEpoch. */
  readEvery?: number;
  /**
   * Record the training step once and replay it (src/compile): the same numbers, bit for bit,
   * without building a graph every step. Off by default, so that a page can look inside each step.
   */
  compiled?: boolean;
  /** What to suggest when training diverges at a step: see trainEpoch. */
  hint?: (epoch: number, step: number) => string;
}

/** Train from the epoch after the last completed one up to `training.epochs`. */
export async function trainRun(run: Run, train: Dataset, options: TrainOptions = {}): Promise<void> {
  const { onStep } = options;
  const eager = stepOf(run.model, run.optimizer, run.generator, options.inspect);
  const step = options.compiled ? compile(eager, { name: "the training step" }) : eager;
  for (let epoch = run.history.length + 1; epoch <= run.training.epochs; epoch++) {
    const result = await trainEpoch(run.model, run.optimizer, train, {
      epoch,
      batchSize: run.training.batchSize,
      generator: run.generator,
      onStep: onStep && ((report) => onStep(epoch, report)),
      inspect: options.inspect,
      readEvery: options.readEvery,
      step,
      hint: options.hint && ((step) => options.hint?.(epoch, step) ?? ""),
    });
    run.history.push(result);
    await options.onEpoch?.(result);
  }
}

/** The run as a checkpoint's bytes, in one array (see checkpointParts). */
export async function checkpointBytes(run: Run): Promise<Uint8Array> {
  return joinParts(await checkpointParts(run));
}

/**
 * The run as a checkpoint's parts, to be written one after another (a large model's checkpoint
 * does not fit one array). The copies of the weights and optimizer state are freed here.
 */
export async function checkpointParts(run: Run): Promise<Uint8Array[]> {
  const checkpoint: Checkpoint = {
    model: run.config,
    training: run.training,
    epoch: run.history.length,
    weights: run.model.stateDict(),
    optimizer: run.optimizer.stateDict(),
    generator: run.generator.getState(),
    history: run.history,
    ...(run.data === undefined ? {} : { data: run.data }),
  };
  try {
    return await encodeCheckpointParts(checkpoint);
  } finally {
    disposeCheckpoint(checkpoint);
  }
}

/**
 * The generator evaluation draws from: a stream of its own, so that evaluating after training and
 * evaluating a checkpoint (--eval-only) give the same figures.
 */
export function evaluationGenerator(run: Run): Generator {
  return new Generator(run.training.seed + 1);
}

/** The test loss before any training (about 784·ln 2 = 543.4 nats per image), on up to 1,000 images. */
export async function initialTestLoss(run: Run, test: Dataset): Promise<number> {
  const subset = { ...test, count: Math.min(1000, test.count) };
  return (await evaluateElbo(run.model, subset, { generator: evaluationGenerator(run) })).loss;
}

export interface Evaluation {
  elbo: ElboEvaluation;
  iwae: IwaeEvaluation;
  seconds: number;
}

/** Test −ELBO on every test image and the IWAE bound with `iwK` samples on the first `iwImages`. */
export async function evaluateRun(
  run: Run,
  test: Dataset,
  options: { iwK: number; iwImages: number; generator: Generator; onBatch?: OnBatch },
): Promise<Evaluation> {
  const start = performance.now();
  const { generator, onBatch } = options;
  const elbo = await evaluateElbo(run.model, test, { generator, onBatch });
  const iwae = await evaluateIwae(run.model, test, {
    k: options.iwK,
    images: options.iwImages,
    generator,
    onBatch,
  });
  return { elbo, iwae, seconds: (performance.now() - start) / 1000 };
}

/** What the report's pictures show, as plain arrays (rows × cols pixels per image). */
export interface PictureValues {
  /** The first `shown` test images, then their reconstructions from the mean of q(z|x). */
  originalsAndReconstructions: Float32Array;
  shown: number;
  /** 64 digits decoded from z ~ N(0, I). */
  samples: TypedArray;
  /** The latent mean of every test image (count × latent). */
  means: TypedArray;
}

export async function pictureValues(run: Run, test: Dataset, generator: Generator): Promise<PictureValues> {
  const { model } = run;
  const pixels = test.rows * test.cols;
  const shown = Math.min(16, test.count);
  const originals = gatherImages(
    test,
    Int32Array.from({ length: shown }, (_, i) => i),
  );
  model.eval();
  const [reconstructions, samples, means] = await valuesOf(() => {
    const x = fromTypedArray(originals, [shown, pixels]);
    const z = randn([64, model.config.latentDim], { generator });
    const all = fromTypedArray(test.images, [test.count, pixels]);
    // Reconstruct from the mean of q(z|x): the picture of what the code holds, without sampling noise.
    return [model.decode(model.encode(x).mu), model.decode(z), model.encode(all).mu] as const;
  });
  const pair = new Float32Array(2 * shown * pixels);
  pair.set(originals);
  pair.set(reconstructions, shown * pixels);
  return {
    originalsAndReconstructions: pair,
    shown,
    samples,
    means,
  };
}
