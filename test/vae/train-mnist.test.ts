/**
 * `npm run train:mnist`'s work, in this process on a small data folder: what it prints, the report it
 * writes, how it continues a run and evaluates a checkpoint, and how it stops when npm or tsx above
 * it is gone. (train.test.ts and cli-robust.test.ts run the command itself, in a child process.)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { trainMnist } from "../../src/vae/train-mnist.ts";
import { writeMnistFolder } from "./mnist-folder-helpers.ts";

/** The launcher watch, played here: gone when `goneWhen` says so at a check; the timer never looks. */
const watch = vi.hoisted(() => ({ goneWhen: (): boolean => false, checks: 0, stops: 0 }));
vi.mock("../../src/vae/launcher.ts", () => ({
  watchLaunchers: (onGone: (who: string) => void) => ({
    check: () => {
      watch.checks++;
      if (watch.goneWhen()) onGone("npm (pid 4242)");
    },
    stop: () => {
      watch.stops++;
    },
  }),
}));

let root: string;
let data: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "elbo-train-mnist-"));
  data = writeMnistFolder(join(root, "data"), [64, 28, 28], [20, 28, 28]);
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** What a run prints: console lines, standard-output writes (the progress), console errors. */
interface Printed {
  lines: string[];
  progress: string;
  errors: string[];
}
let printed: Printed;
beforeEach(() => {
  printed = { lines: [], progress: "", errors: [] };
  vi.spyOn(console, "log").mockImplementation((line: string) => {
    printed.lines.push(line);
  });
  vi.spyOn(console, "error").mockImplementation((line: string) => {
    printed.errors.push(line);
  });
  // Progress as without a terminal: a plain line every tenth of an epoch.
  const isTTY = Object.getOwnPropertyDescriptor(process.stdout, "isTTY");
  Object.defineProperty(process.stdout, "isTTY", { value: false, configurable: true });
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    printed.progress += String(chunk);
    return true;
  });
  // process.exit ends nothing here: it throws, as far as the caller of trainMnist.
  vi.spyOn(process, "exit").mockImplementation((code) => {
    throw new Error(`process.exit(${code})`);
  });
  watch.goneWhen = () => false;
  watch.checks = 0;
  watch.stops = 0;
  return () => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    if (isTTY === undefined) delete (process.stdout as { isTTY?: boolean }).isTTY;
    else Object.defineProperty(process.stdout, "isTTY", isTTY);
  };
});

const small = ["--hidden", "8", "--latent", "2", "--batch-size", "32", "--iw-k", "2", "--iw-images", "5"];
const readMetrics = (out: string) => JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));

/**
 * A new run of two epochs, which the later tests continue and evaluate: made once, by whichever test
 * runs first (mutation testing runs only the tests that reach a mutant), with what it printed.
 */
let firstRun: Promise<{ out: string; printed: Printed; checks: number; stops: number }> | undefined;
function first() {
  firstRun ??= (async () => {
    const out = join(root, "first");
    // --backend wins over $ELBO_BACKEND.
    vi.stubEnv("ELBO_BACKEND", "wasm");
    await trainMnist([...small, "--data", data, "--epochs", "2", "--backend", "cpu", "--out", out]);
    vi.unstubAllEnvs();
    const run = { out, printed, checks: watch.checks, stops: watch.stops };
    printed = { lines: [], progress: "", errors: [] };
    watch.checks = 0;
    watch.stops = 0;
    return run;
  })();
  return firstRun;
}

describe("trainMnist", () => {
  it("trains, says so line by line, and writes the report, the figures printed being the report's", async () => {
    const { out, printed, checks, stops } = await first();
    const metrics = readMetrics(out);
    const lineLike = (pattern: RegExp) => {
      const found = printed.lines.filter((l) => pattern.test(l));
      expect(found, String(pattern)).toHaveLength(1);
      return pattern.exec(found[0]) as RegExpExecArray;
    };

    expect(printed.lines[0]).toBe("backend: cpu");
    expect(printed.lines[1]).toBe("data: 64 training and 20 test images of 28×28");
    lineLike(/^at initialisation: test loss \d+\.\d\d nats per image \(784·ln 2 = 543\.4\)$/);
    for (const e of [1, 2]) {
      const [, loss, seconds] = lineLike(
        new RegExp(`^epoch ${e}/2 {2}loss (\\d+\\.\\d\\d) {2}(\\d+\\.\\d) s$`),
      );
      expect(loss).toBe(metrics.epochs[e - 1].loss.toFixed(2));
      expect(seconds).toBe(metrics.epochs[e - 1].seconds.toFixed(1));
    }
    const elbo = metrics.test.negativeElbo;
    expect(printed.lines).toContain(
      `test: −ELBO ${elbo.loss.toFixed(2)} nats per image (BCE ${elbo.bce.toFixed(2)} + KL ${elbo.kl.toFixed(2)}) on 20 images`,
    );
    const iwae = metrics.test.iwae;
    expect(printed.lines).toContain(
      `test: IWAE log p(x) ≥ ${iwae.logLikelihood.toFixed(2)} ± ${iwae.standardError.toFixed(2)} nats (k=2, 5 images)`,
    );
    expect(printed.lines).toContain(
      `evaluation ${metrics.seconds.evaluation.toFixed(1)} s, pictures ${metrics.seconds.pictures.toFixed(1)} s`,
    );
    expect(printed.lines.at(-1)).toBe(
      `report written to ${out}/ (metrics.json, checkpoint.safetensors, reconstructions.png, samples.png, latent.png, loss.png)`,
    );
    // Two steps an epoch: the first of each is a progress line, the last is the epoch's own line.
    expect(printed.progress.match(/^ {2}step \d+\/\d+ {2}loss \d+\.\d\d$/gm)).toEqual([
      expect.stringMatching(/^ {2}step 1\/2 /),
      expect.stringMatching(/^ {2}step 1\/2 /),
    ]);
    expect(printed.errors).toEqual([]);

    expect(metrics).toMatchObject({
      model: { inputDim: 784, latentDim: 2, encUnits: 8, decUnits: 8 },
      training: { epochs: 2, batchSize: 32, lr: 0.01, seed: 1, limit: null, dataDir: data },
      backend: "cpu",
      test: { negativeElbo: { images: 20 }, iwae: { k: 2, images: 5 } },
      checkpoint: "checkpoint.safetensors",
    });
    // Each epoch's figures, without its loss of every step.
    expect(metrics.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2]);
    for (const e of metrics.epochs) expect(e).not.toHaveProperty("stepLosses");
    for (const f of [
      "checkpoint.safetensors",
      "reconstructions.png",
      "samples.png",
      "latent.png",
      "loss.png",
    ]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    // Looked for its launchers at every step and after every epoch, and stopped watching at the end.
    expect(checks).toBe(2 * 2 + 2);
    expect(stops).toBe(1);
  });

  it("continues a run from its checkpoint, to the epochs asked for", async () => {
    const firstOut = (await first()).out;
    const out = join(root, "continued");
    const checkpoint = join(firstOut, "checkpoint.safetensors");
    // Without --backend, $ELBO_BACKEND chooses.
    vi.stubEnv("ELBO_BACKEND", "cpu");
    await trainMnist([
      "--resume",
      checkpoint,
      "--epochs",
      "3",
      "--iw-k",
      "2",
      "--iw-images",
      "5",
      "--out",
      out,
    ]);
    expect(printed.lines[0]).toBe("backend: cpu");
    expect(printed.lines).toContain(`continuing from ${checkpoint} (trained for 2 epochs)`);
    expect(printed.lines.some((l) => l.startsWith("at initialisation"))).toBe(false);
    expect(printed.lines.filter((l) => l.startsWith("epoch "))).toEqual([
      expect.stringMatching(/^epoch 3\/3 {2}loss /),
    ]);
    const metrics = readMetrics(out);
    expect(metrics.epochs.slice(0, 2)).toEqual(readMetrics(firstOut).epochs);
    expect(metrics.epochs).toHaveLength(3);
    expect(metrics.training).toMatchObject({ epochs: 3, batchSize: 32, dataDir: data });
    expect(metrics.checkpoint).toBe("checkpoint.safetensors");
  });

  it("--eval-only evaluates a checkpoint as its run did, trains nothing and writes no checkpoint", async () => {
    const firstOut = (await first()).out;
    const out = join(root, "evaluated");
    // Given relative to where the run is: the report names it absolute.
    const checkpoint = relative(process.cwd(), join(firstOut, "checkpoint.safetensors"));
    vi.stubEnv("ELBO_BACKEND", "cpu");
    await trainMnist(["--eval-only", checkpoint, "--iw-k", "2", "--iw-images", "5", "--out", out]);
    expect(printed.lines).toContain(`evaluating ${checkpoint} (trained for 2 epochs)`);
    expect(printed.lines.some((l) => l.startsWith("at initialisation") || l.startsWith("epoch "))).toBe(
      false,
    );
    expect(printed.progress).toBe("");
    expect(printed.lines.at(-1)).toBe(
      `report written to ${out}/ (metrics.json, reconstructions.png, samples.png, latent.png, loss.png)`,
    );
    expect(existsSync(join(out, "checkpoint.safetensors"))).toBe(false);
    const metrics = readMetrics(out);
    expect(metrics.checkpoint).toBe(resolve(checkpoint));
    expect(metrics.test).toEqual(readMetrics(firstOut).test);
    expect(metrics.epochs).toEqual(readMetrics(firstOut).epochs);
    expect(watch.checks).toBe(0);
  });

  it("stops at the first step when its launcher is gone, saying no checkpoint was written", async () => {
    const out = join(root, "stopped-at-once");
    watch.goneWhen = () => true;
    await expect(trainMnist([...small, "--data", data, "--backend", "cpu", "--out", out])).rejects.toThrow(
      "process.exit(1)",
    );
    expect(printed.errors).toEqual([
      "train:mnist: stopping: npm (pid 4242), which started this run, has exited; no checkpoint was written yet",
    ]);
    expect(printed.lines.some((l) => l.startsWith("epoch "))).toBe(false);
    expect(existsSync(join(out, "checkpoint.safetensors"))).toBe(false);
    expect(watch.stops).toBe(1);
  });

  it("stops after the last epoch's checkpoint, before evaluating, when its launcher is gone by then", async () => {
    const out = join(root, "stopped-after");
    const checkpoint = join(out, "checkpoint.safetensors");
    watch.goneWhen = () => existsSync(checkpoint);
    await expect(
      trainMnist([...small, "--data", data, "--epochs", "1", "--backend", "cpu", "--out", out]),
    ).rejects.toThrow("process.exit(1)");
    expect(printed.errors).toEqual([
      `train:mnist: stopping: npm (pid 4242), which started this run, has exited; the last checkpoint, ${checkpoint}, is kept`,
    ]);
    expect(printed.lines.filter((l) => l.startsWith("epoch "))).toHaveLength(1);
    expect(printed.lines.some((l) => l.startsWith("test:"))).toBe(false);
    expect(existsSync(join(out, "metrics.json"))).toBe(false);
  });
});
