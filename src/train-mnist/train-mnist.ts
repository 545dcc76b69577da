/**
 * The work of `npm run train:mnist` (src/train-mnist/cli.ts starts it and ends the process): files in and
 * out, in order. Defaults are the reference tutorial's: latent 10, hidden 200, Adam lr 0.01, batch
 * 128, 5 epochs. The flags and the checkpoint's rules are src/train-mnist/flags.ts; the run itself (model,
 * training loop, evaluation) is src/vae/run.ts, which a browser page uses as well.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { backendFromEnvironment, useBackend } from "../kernels/registry.ts";
import { WasmBackend } from "../kernels/wasm/backend.ts";
import { enableRelaxedSimd } from "../kernels/wasm/node-flags.ts";
import {
  checkImageSizes,
  type DataFingerprint,
  fingerprintDifference,
  fingerprintOf,
} from "../vae/dataset.ts";
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
import { PICTURE_FILES, writePictures } from "./pictures.ts";
import { progressReporter } from "./progress.ts";

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
  const dir = training.dataDir ?? undefined;
  const train = loadMnist("train", { dir, limit: training.limit ?? undefined });
  const test = loadMnist("test", { dir });
  checkImageSizes(train, test, config.inputDim, {
    train: mnistFiles("train", dir).images,
    test: mnistFiles("test", dir).images,
  });
  console.log(`data: ${train.count} training and ${test.count} test images of ${train.rows}×${train.cols}`);
  const data: DataFingerprint = { train: fingerprintOf(train), test: fingerprintOf(test) };
  if (resumed !== undefined) {
    checkSameData(resumed.data, data, checkpointPath as string, flags.evalOnly !== undefined, {
      train: mnistFiles("train", dir).images,
      test: mnistFiles("test", dir).images,
    });
  }

  let run: Run;
  try {
    run = startRun(config, training, resumed, data);
  } catch (e) {
    throw new Error(`${checkpointPath}: does not fit the model it describes: ${(e as Error).message}`);
  }
  if (resumed !== undefined) {
    console.log(
      `${flags.evalOnly === undefined ? "continuing from" : "evaluating"} ${checkpointPath} (trained for ${resumed.epoch} epochs)`,
    );
  }

  const checkpointFile = join(out, "checkpoint.safetensors");
  // The epoch's progress bar, made at its first step and ended before the epoch's line (or before
  // an exit, which runs no finally: the message would land on the bar's line).
  let progress: ReturnType<typeof progressReporter> | undefined;
  const stopProgress = () => {
    progress?.stop();
    progress = undefined;
  };
  // If npm or tsx above this process is killed, stop too (between steps, never mid-write).
  const launchers = watchLaunchers((who) => {
    stopProgress();
    console.error(
      `train:mnist: stopping: ${who}, which started this run, has exited; ${existsSync(checkpointFile) ? `the last checkpoint, ${checkpointFile}, is kept` : "no checkpoint was written yet"}`,
    );
    process.exit(1);
  });
  try {
    if (flags.evalOnly === undefined) {
      if (run.history.length === 0) {
        const initial = await initialTestLoss(run, test);
        console.log(`at initialisation: test loss ${initial.toFixed(2)} nats per image (784·ln 2 = 543.4)`);
      }
      try {
        await trainRun(run, train, {
          // A read-back drains the GPU's queue: on the gpu backend, let 20 steps queue up between reads.
          readEvery: backend.name === "gpu" ? 20 : 1,
          onStep: (epoch, report) => {
            launchers.check();
            progress ??= progressReporter(epoch, training.epochs);
            progress.onStep(report);
          },
          onEpoch: async (result) => {
            stopProgress();
            console.log(
              `epoch ${result.epoch}/${training.epochs}  loss ${result.loss.toFixed(2)}  ${result.seconds.toFixed(1)} s`,
            );
            writeFileAtomic(checkpointFile, await checkpointParts(run));
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
