/**
 * The work of `npm run train:mnist` (src/train-mnist/cli.ts starts it and ends the process): files in and
 * out, in order. Defaults are the reference tutorial's: latent 10, hidden 200, Adam lr 0.01, batch
 * 128, 5 epochs. The flags and the checkpoint's rules are src/train-mnist/flags.ts; the run itself (model,
 * training loop, evaluation) is src/vae/run.ts, which a browser page uses as well.
 */
import { join, resolve } from "node:path";
import { backendFromEnvironment, useBackend } from "../kernels/registry.ts";
import { WasmBackend } from "../kernels/wasm/backend.ts";
import { MAX_PAGES, PAGE_BYTES } from "../kernels/wasm/module.ts";
import { enableRelaxedSimd } from "../kernels/wasm/node-flags.ts";
import {
  checkImageSizes,
  type DataFingerprint,
  fingerprintDifference,
  fingerprintOf,
} from "../vae/dataset.ts";
import type { IwaeEvaluation } from "../vae/evaluate.ts";
import {
  checkpointParts,
  evaluateRun,
  evaluationGenerator,
  initialTestLoss,
  type Run,
  startRun,
  trainRun,
} from "../vae/run.ts";
import { loadCheckpoint } from "./checkpoint.ts";
import { loadMnist, mnistFiles } from "./data.ts";
import { checkOutputNames, prepareOutputFolder, removeEmptyFolders, writeFileAtomic } from "./files.ts";
import { defaultOutFolder, type Flags, type ParsedFlags, parseFlags, settingsOf } from "./flags.ts";
import { watchLaunchers } from "./launcher.ts";
import { lockOutputFolder } from "./lock.ts";
import { availableMemory, checkMemory } from "./memory.ts";
import { PICTURE_FILES, writePictures } from "./pictures.ts";
import { progressReporter } from "./progress.ts";
import { type SignalWatch, Stopped, watchSignals } from "./signals.ts";

/** A read-back drains the GPU's queue: on the gpu backend, this many steps queue up between reads. */
export const GPU_READ_EVERY = 20;

/**
 * Run `npm run train:mnist` with the arguments after the script's name: its output on the console,
 * its files in --out. A bad flag ends the process (commander); every other failure rejects.
 */
export async function trainMnist(argv: string[]): Promise<void> {
  const { flags, source } = parseFlags(argv);
  // The output folder before any work: made, owned by this run, every name it will write free.
  const out = flags.out ?? defaultOutFolder();
  const made = prepareOutputFolder(out, "--out");
  const release = lockOutputFolder(out, "--out");
  let finished = false;
  try {
    const names = [...(flags.evalOnly === undefined ? ["checkpoint.safetensors"] : []), "metrics.json"];
    checkOutputNames(out, [...names, ...PICTURE_FILES], "--out");
    await runInto(out, flags, source);
    finished = true;
  } finally {
    release();
    // A run refused before writing anything leaves no empty folder behind.
    if (!finished) removeEmptyFolders(made);
  }
}

/** The run itself, once its output folder is ready. */
async function runInto(out: string, flags: Flags, source: ParsedFlags["source"]): Promise<void> {
  // From here on a signal stops the run between steps (see signals.ts), not mid-write.
  const signals = watchSignals();
  try {
    await runWatched(out, flags, source, signals);
  } finally {
    signals.dispose();
  }
}

async function runWatched(
  out: string,
  flags: Flags,
  source: ParsedFlags["source"],
  signals: SignalWatch,
): Promise<void> {
  enableRelaxedSimd();
  const backend = await useBackend(flags.backend ?? backendFromEnvironment() ?? "auto");
  console.log(`backend: ${backend.describe().summary}`);

  const checkpointPath = flags.resume ?? flags.evalOnly;
  const resumed =
    checkpointPath === undefined
      ? undefined
      : loadCheckpoint(checkpointPath, { allowNonFinite: flags.allowNonFinite === true });
  const { config, training } = settingsOf(flags, source, resumed, checkpointPath);
  // A 1- or 2-D latent space is drawn as it is: there is no map to choose.
  if (source("latentMap") === "cli" && config.latentDim <= 2) {
    throw new Error(
      `--latent-map does not apply to a ${config.latentDim}-D latent space, which latent.png draws as it is, without a map`,
    );
  }

  // Everything that can be checked is checked before any work starts.
  const dir = training.dataDir ?? undefined;
  const files = { train: mnistFiles("train", dir).images, test: mnistFiles("test", dir).images };
  const train = loadMnist("train", { dir, limit: training.limit ?? undefined });
  const test = loadMnist("test", { dir });
  checkImageSizes(train, test, config.inputDim, files);
  // t-SNE and UMAP map at least 3 points (a smaller test set used to fail after training).
  if (config.latentDim > 2 && test.count < 3) {
    throw new Error(
      `${files.test}: holds ${test.count} test image(s), but the latent map needs at least 3 (a latent space of 1 or 2 dimensions is drawn without one)`,
    );
  }
  checkMemory(
    {
      config,
      batchSize: training.batchSize,
      iwK: flags.iwK,
      iwImages: flags.iwImages,
      trainCount: train.count,
      testCount: test.count,
    },
    {
      "--hidden": config.encUnits,
      "--latent": config.latentDim,
      "--batch-size": training.batchSize,
      "--iw-k": flags.iwK,
      "--data": flags.data,
    },
    {
      available: availableMemory(),
      ...(backend instanceof WasmBackend ? { backend: { name: "wasm", bytes: MAX_PAGES * PAGE_BYTES } } : {}),
    },
  );
  console.log(`data: ${train.count} training and ${test.count} test images of ${train.rows}×${train.cols}`);
  const data: DataFingerprint = { train: fingerprintOf(train), test: fingerprintOf(test) };
  if (resumed !== undefined) {
    checkSameData(resumed.data, data, checkpointPath as string, flags.evalOnly !== undefined, files);
  }

  let run: Run;
  try {
    run = startRun(config, training, resumed, data);
  } catch (e) {
    // A new run's model comes from the flags, and its error names them (it used to say "undefined:").
    if (resumed === undefined) throw e;
    throw new Error(`${checkpointPath}: does not fit the model it describes: ${(e as Error).message}`);
  }
  if (resumed !== undefined) {
    console.log(
      `${flags.evalOnly === undefined ? "continuing from" : "evaluating"} ${checkpointPath} (trained for ${resumed.epoch} epochs)`,
    );
  }

  const checkpointFile = join(out, "checkpoint.safetensors");
  /** Epochs whose checkpoint this run wrote into --out. */
  let saved = 0;
  // The epoch's progress bar, made at its first step and ended before the epoch's line (or before
  // an exit, which runs no finally: the message would land on the bar's line).
  let progress: ReturnType<typeof progressReporter> | undefined;
  const stopProgress = () => {
    progress?.stop();
    progress = undefined;
  };
  // If npm or tsx above this process is killed, stop too, as on a signal (between steps).
  const launchers = watchLaunchers((who) =>
    signals.stop(`because ${who}, which started this run, has exited`),
  );
  const metrics = (test: unknown, seconds: Record<string, number>, more: Record<string, unknown> = {}) => ({
    model: config,
    training,
    backend: backend.name,
    epochs: run.history.map(({ stepLosses: _, ...e }) => e),
    test,
    seconds,
    // The checkpoint that holds these epochs: this run's, the one it continued or evaluated, or none.
    checkpoint:
      saved > 0 ? "checkpoint.safetensors" : checkpointPath === undefined ? null : resolve(checkpointPath),
    ...more,
  });
  let metricsWritten = false;
  const writeMetrics = (m: object) => {
    writeFileAtomic(join(out, "metrics.json"), `${JSON.stringify(m, null, 2)}\n`);
    metricsWritten = true;
  };
  try {
    if (flags.evalOnly === undefined) {
      if (run.history.length === 0) {
        const initial = await initialTestLoss(run, test);
        console.log(`at initialisation: test loss ${initial.toFixed(2)} nats per image (784·ln 2 = 543.4)`);
      }
      const firstEpoch = run.history.length + 1;
      try {
        await trainRun(run, train, {
          readEvery: backend.name === "gpu" ? GPU_READ_EVERY : 1,
          compiled: flags.eager !== true,
          onStep: async (epoch, report) => {
            launchers.check();
            progress ??= progressReporter(epoch, training.epochs);
            progress.onStep(report);
            await signals.between(`during epoch ${epoch}, after step ${report.step}/${report.steps}`);
          },
          onEpoch: async (result) => {
            stopProgress();
            console.log(
              `epoch ${result.epoch}/${training.epochs}  loss ${result.loss.toFixed(2)}  ${result.seconds.toFixed(1)} s`,
            );
            writeFileAtomic(checkpointFile, await checkpointParts(run));
            saved = result.epoch;
            launchers.check();
            await signals.between(`after epoch ${result.epoch}'s checkpoint`);
          },
          hint:
            resumed === undefined
              ? undefined
              : (epoch, step) =>
                  `${epoch === firstEpoch && step === 1 ? `at the first step after resuming, so the state saved in ${checkpointPath} is likely damaged; ` : ""}--lr cannot be changed when continuing (the checkpoint's is ${training.lr}): start a new run with a smaller --lr${epoch === firstEpoch && step === 1 ? ", or continue from an earlier checkpoint" : ""}`,
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
      onBatch: () => signals.between("during the evaluation"),
    });
    const { elbo, iwae } = evaluation;
    console.log(
      `test: −ELBO ${elbo.loss.toFixed(2)} nats per image (BCE ${elbo.bce.toFixed(2)} + KL ${elbo.kl.toFixed(2)}) on ${elbo.images} images`,
    );
    console.log(iwaeLine(iwae));
    // The figures first: a picture that fails (or a signal while drawing) never costs them.
    const figures = { negativeElbo: elbo, iwae };
    writeMetrics(metrics(figures, { evaluation: evaluation.seconds }));

    const picturesStart = performance.now();
    const pictures = await writePictures(out, run, test, evalGenerator, {
      latentMap: flags.latentMap,
      between: (where) => signals.between(where),
    });
    const pictureSeconds = (performance.now() - picturesStart) / 1000;
    console.log(`evaluation ${evaluation.seconds.toFixed(1)} s, pictures ${pictureSeconds.toFixed(1)} s`);
    writeMetrics(
      metrics(
        figures,
        { evaluation: evaluation.seconds, pictures: pictureSeconds },
        pictures.failed.length > 0 ? { picturesFailed: pictures.failed } : {},
      ),
    );
    const written = ["metrics.json", ...(saved > 0 ? ["checkpoint.safetensors"] : []), ...pictures.written];
    console.log(`report written to ${out}/ (${written.join(", ")})`);
    if (pictures.failed.length > 0) {
      throw new Error(
        `could not draw ${pictures.failed.map((f) => `${f.file} (${f.reason})`).join(", ")}; the rest of the report is written`,
      );
    }
  } catch (e) {
    if (!(e instanceof Stopped)) throw e;
    stopProgress();
    // What can be written: the epochs done, without test figures if the evaluation did not finish
    // (if it did, metrics.json already holds them).
    if (!metricsWritten) writeMetrics(metrics(null, {}, { stopped: `${e.reason} ${e.where}` }));
    const kept =
      saved > 0
        ? `the last checkpoint, ${checkpointFile} (epoch ${saved}), is kept; continue with --resume ${checkpointFile}`
        : flags.evalOnly === undefined
          ? resumed === undefined
            ? "no epoch was finished, so no checkpoint was written"
            : `no epoch was finished; ${checkpointPath} is as it was`
          : "nothing was trained";
    throw new Stopped(e.signal, e.reason, `${e.where}: ${kept}; metrics.json in ${out}/ says what was done`);
  } finally {
    // Done, or failed: nothing to watch for any more (an in-process caller lives on).
    launchers.stop();
  }
}

/**
 * Refuse to continue a run on data other than its own (the result would no longer be the one an
 * uninterrupted run gives), naming what differs. Evaluating a checkpoint on other test images is
 * allowed, and said. A checkpoint that does not record its data (an older version's) is noted.
 */
function checkSameData(
  saved: DataFingerprint | undefined,
  now: DataFingerprint,
  checkpoint: string,
  evaluating: boolean,
  files: { train: string; test: string },
): void {
  if (saved === undefined) {
    console.error(
      `note: ${checkpoint} does not record its data (an older version wrote it): it cannot be checked`,
    );
    return;
  }
  for (const split of evaluating ? (["test"] as const) : (["train", "test"] as const)) {
    const difference = fingerprintDifference(saved[split], now[split]);
    if (difference === null) continue;
    const what = `the ${split === "train" ? "training" : "test"} images (${files[split]}) are not the run's: ${difference}`;
    if (evaluating) console.error(`note: ${what}; evaluating ${checkpoint} on them`);
    else
      throw new Error(
        `${checkpoint}: ${what}; a run continues only on its own data (start a new run for new data)`,
      );
  }
}

/** The IWAE bound as the run prints it; one image has no spread, so no standard error. */
export function iwaeLine(iwae: IwaeEvaluation): string {
  const se = Number.isNaN(iwae.standardError)
    ? "n/a (one image has no spread)"
    : iwae.standardError.toFixed(2);
  return `test: IWAE log p(x) ≥ ${iwae.logLikelihood.toFixed(2)} ± ${se} nats (k=${iwae.k}, ${iwae.images} ${iwae.images === 1 ? "image" : "images"})`;
}
