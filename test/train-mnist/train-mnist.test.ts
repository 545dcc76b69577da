/**
 * `npm run train:mnist`'s work, in this process on a small data folder: what it prints, the report it
 * writes, how it continues a run and evaluates a checkpoint, and how it stops when npm or tsx above
 * it is gone. (cli.test.ts runs the command itself, in a child process.)
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { iwaeLine, trainMnist } from "../../src/train-mnist/train-mnist.ts";
import { writeMnistFolder } from "../fixtures/mnist-folder.ts";
import { joinSafetensors, splitSafetensors, withMetadata } from "../fixtures/safetensors-bytes.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";

/** The launcher watch, played here: gone when `goneWhen` says so at a check; the timer never looks. */
const watch = vi.hoisted(() => ({ goneWhen: (): boolean => false, checks: 0, stops: 0 }));
vi.mock("../../src/train-mnist/launcher.ts", () => ({
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

const root = sharedTempDir("elbo-train-mnist-");
let data: string;
beforeAll(() => {
  data = writeMnistFolder(join(root, "data"), [64, 28, 28], [20, 28, 28]);
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

/** A short evaluation: the IWAE bound with 2 samples on 5 images. */
const quickEvaluation = ["--iw-k", "2", "--iw-images", "5"];
const small = ["--hidden", "8", "--latent", "2", "--batch-size", "32", ...quickEvaluation];
/** The first 48 training images of the data folder, on the cpu backend. */
const on48 = () => ["--data", data, "--limit", "48", "--backend", "cpu"];
const readMetrics = (out: string) => JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));

/**
 * A new run of two epochs, which the later tests continue and evaluate: made once, by whichever test
 * runs first (mutation testing runs only the tests that reach a mutant), with what it printed.
 */
let firstRun:
  | Promise<{ out: string; printed: Printed; checks: number; stops: number; seconds: number }>
  | undefined;
function first() {
  firstRun ??= (async () => {
    const out = join(root, "first");
    // --backend wins over $ELBO_BACKEND.
    vi.stubEnv("ELBO_BACKEND", "wasm");
    const start = performance.now();
    await trainMnist([...small, ...on48(), "--epochs", "2", "--out", out]);
    const seconds = (performance.now() - start) / 1000;
    vi.unstubAllEnvs();
    const run = { out, printed, checks: watch.checks, stops: watch.stops, seconds };
    printed = { lines: [], progress: "", errors: [] };
    watch.checks = 0;
    watch.stops = 0;
    return run;
  })();
  return firstRun;
}

describe("trainMnist", () => {
  it("trains, says so line by line, and writes the report, the figures printed being the report's", async () => {
    const { out, printed, checks, stops, seconds } = await first();
    const metrics = readMetrics(out);
    const lineLike = (pattern: RegExp) => {
      const found = printed.lines.filter((l) => pattern.test(l));
      expect(found, String(pattern)).toHaveLength(1);
      return pattern.exec(found[0]) as RegExpExecArray;
    };

    expect(printed.lines[0]).toBe("backend: cpu, plain TypeScript on one thread");
    expect(printed.lines[1]).toBe("data: 48 training and 20 test images of 28×28");
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
    // Seconds, each a part of the whole run's.
    expect(metrics.seconds.pictures).toBeGreaterThan(0);
    expect(metrics.seconds.evaluation + metrics.seconds.pictures).toBeLessThan(seconds);
    expect(printed.lines.at(-1)).toBe(
      `report written to ${out}/ (metrics.json, checkpoint.safetensors, reconstructions.png, samples.png, latent.png, loss.png)`,
    );
    // Two steps an epoch (32 and 16 images): the first of each is a progress line, the last is the epoch's own line.
    expect(printed.progress.match(/^ {2}step \d+\/\d+ {2}loss \d+\.\d\d$/gm)).toEqual([
      expect.stringMatching(/^ {2}step 1\/2 /),
      expect.stringMatching(/^ {2}step 1\/2 /),
    ]);
    expect(printed.errors).toEqual([]);

    expect(metrics).toMatchObject({
      model: { inputDim: 784, latentDim: 2, encUnits: 8, decUnits: 8 },
      training: { epochs: 2, batchSize: 32, lr: 0.01, seed: 1, limit: 48, dataDir: data },
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
    await trainMnist(["--resume", checkpoint, "--epochs", "3", ...quickEvaluation, "--out", out]);
    expect(printed.lines[0]).toBe("backend: cpu, plain TypeScript on one thread");
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
    await trainMnist(["--eval-only", checkpoint, ...quickEvaluation, "--out", out]);
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
    // The run's latent space is 2-D, drawn as it is: a map to choose would be ignored, so is refused.
    await expect(
      trainMnist(["--eval-only", checkpoint, "--latent-map", "umap", "--out", join(root, "mapped")]),
    ).rejects.toThrow("--latent-map does not apply to a 2-D latent space");
    // The same pictures as the run's: evaluation draws from a generator of its own.
    const picture = (run: string, name: string) => readFileSync(join(run, name));
    expect(picture(out, "reconstructions.png").equals(picture(firstOut, "reconstructions.png"))).toBe(true);
    expect(picture(out, "latent.png").equals(picture(firstOut, "latent.png"))).toBe(true);
  });

  it("stops at the first step when its launcher is gone, saying no checkpoint was written", async () => {
    const out = join(root, "stopped-at-once");
    watch.goneWhen = () => true;
    await expect(trainMnist([...small, "--data", data, "--backend", "cpu", "--out", out])).rejects.toThrow(
      `stopped because npm (pid 4242), which started this run, has exited during epoch 1, after step 1/2: no epoch was finished, so no checkpoint was written; metrics.json in ${out}/ says what was done`,
    );
    expect(printed.lines.some((l) => l.startsWith("epoch "))).toBe(false);
    expect(existsSync(join(out, "checkpoint.safetensors"))).toBe(false);
    expect(readMetrics(out)).toMatchObject({ epochs: [], test: null, checkpoint: null });
    expect(watch.stops).toBe(1);
  });

  it("stops after the last epoch's checkpoint, before evaluating, when its launcher is gone by then", async () => {
    const out = join(root, "stopped-after");
    const checkpoint = join(out, "checkpoint.safetensors");
    watch.goneWhen = () => existsSync(checkpoint);
    await expect(
      trainMnist([...small, "--data", data, "--epochs", "1", "--backend", "cpu", "--out", out]),
    ).rejects.toThrow(
      `stopped because npm (pid 4242), which started this run, has exited after epoch 1's checkpoint: the last checkpoint, ${checkpoint} (epoch 1), is kept`,
    );
    expect(printed.lines.filter((l) => l.startsWith("epoch "))).toHaveLength(1);
    expect(printed.lines.some((l) => l.startsWith("test:"))).toBe(false);
    const metrics = readMetrics(out);
    expect(metrics).toMatchObject({ test: null, checkpoint: "checkpoint.safetensors" });
    expect(metrics.epochs).toHaveLength(1);
    expect(metrics.stopped).toMatch(
      /^because npm \(pid 4242\), which started this run, has exited after epoch 1's checkpoint$/,
    );
  });

  it("--out that cannot be a folder is refused, naming the flag, before any work", async () => {
    const file = join(root, "a-file");
    writeFileSync(file, "");
    await expect(trainMnist([...small, "--data", data, "--backend", "cpu", "--out", file])).rejects.toThrow(
      `--out ${file}: ${file} exists and is not a folder`,
    );
    expect(printed.lines.filter((l) => !l.startsWith("backend: "))).toEqual([]);
  });

  it("test images of another size than the training images are refused, naming both files", async () => {
    const odd = writeMnistFolder(join(root, "odd"), [64, 28, 28], [20, 27, 27]);
    await expect(
      trainMnist([...small, "--data", odd, "--backend", "cpu", "--out", join(root, "odd-out")]),
    ).rejects.toThrow(
      `${join(odd, "t10k-images-idx3-ubyte")}: test images are 27×27 but the training images (${join(odd, "train-images-idx3-ubyte")}) are 28×28`,
    );
  });

  it("continues a run only on its own data, naming what differs; evaluates on other test images, saying so", async () => {
    const own = writeMnistFolder(join(root, "own-data"), [40, 28, 28], [20, 28, 28]);
    const out = join(root, "own");
    await trainMnist([...small, "--data", own, "--backend", "cpu", "--epochs", "1", "--out", out]);
    const checkpoint = join(out, "checkpoint.safetensors");
    const images = join(own, "train-images-idx3-ubyte");
    const original = readFileSync(images);
    const resume = () =>
      trainMnist(["--resume", checkpoint, "--epochs", "2", ...quickEvaluation, "--out", join(root, "own-2")]);

    // One pixel changed: as many images of the same size, other contents.
    const changed = Buffer.from(original);
    changed[original.length - 1] ^= 0xff;
    writeFileSync(images, changed);
    await expect(resume()).rejects.toThrow(
      new RegExp(
        `^${checkpoint}: the training images \\(${images}\\) are not the run's: as many images of the same size, but other pixels or labels \\(CRC-32 [0-9a-f]{8} then, [0-9a-f]{8} now\\); a run continues only on its own data`,
      ),
    );
    writeMnistFolder(own, [30, 28, 28], [20, 28, 28]);
    await expect(resume()).rejects.toThrow(
      `the training images (${images}) are not the run's: 40 images then, 30 now`,
    );
    writeMnistFolder(own, [40, 28, 28], [21, 28, 28]);
    await expect(resume()).rejects.toThrow(
      /the test images \(.*t10k-images-idx3-ubyte\) are not the run's: 20 images then, 21 now/,
    );
    expect(existsSync(join(root, "own-2", "checkpoint.safetensors"))).toBe(false);

    // Evaluating on other test images is allowed, and said.
    await trainMnist(["--eval-only", checkpoint, ...quickEvaluation, "--out", join(root, "own-eval")]);
    expect(printed.errors).toContainEqual(
      expect.stringMatching(
        /^note: the test images \(.*\) are not the run's: 20 images then, 21 now; evaluating /,
      ),
    );
    // Its own data again: it continues.
    writeMnistFolder(own, [40, 28, 28], [20, 28, 28]);
    await resume();
    expect(readMetrics(join(root, "own-2")).epochs).toHaveLength(2);
  }, 120_000);

  it("a checkpoint holding NaN is refused unless --allow-non-finite; one that does not fit its model is refused by name", async () => {
    const { out: firstOut } = await first();
    const bytes = new Uint8Array(readFileSync(join(firstOut, "checkpoint.safetensors")));
    const { header, data: tensors } = splitSafetensors(bytes);
    const [at] = (header["model.fc1.weight"] as { data_offsets: [number, number] }).data_offsets;
    const damaged = Uint8Array.from(tensors);
    new DataView(damaged.buffer).setFloat32(at, Number.NaN, true);
    const diverged = join(root, "diverged.safetensors");
    writeFileSync(diverged, joinSafetensors(header, damaged));
    const evaluate = (checkpoint: string, ...more: string[]) =>
      trainMnist(["--eval-only", checkpoint, "--backend", "cpu", ...quickEvaluation, ...more]);

    await expect(evaluate(diverged, "--out", join(root, "refused"))).rejects.toThrow(
      `${diverged}: tensor model.fc1.weight holds NaN at index 0: a checkpoint of a diverged run is refused (--allow-non-finite loads it anyway)`,
    );
    await evaluate(diverged, "--allow-non-finite", "--out", join(root, "allowed"));
    expect(printed.lines).toContain(`evaluating ${diverged} (trained for 2 epochs)`);
    // Loaded as it is, to be inspected: its NaN reaches the test loss (null in JSON).
    expect(readMetrics(join(root, "allowed")).test.negativeElbo.loss).toBeNull();

    // Its metadata says 9 hidden units; its tensors hold 8.
    const misfit = join(root, "misfit.safetensors");
    const model = JSON.parse((header.__metadata__ as Record<string, string>).model);
    writeFileSync(misfit, withMetadata(bytes, "model", JSON.stringify({ ...model, encUnits: 9 })));
    await expect(evaluate(misfit, "--out", join(root, "misfit"))).rejects.toThrow(
      `${misfit}: does not fit the model it describes: `,
    );
  });

  it("on the wasm backend, says how many threads and which SIMD it runs", async () => {
    const { out: firstOut } = await first();
    const checkpoint = join(firstOut, "checkpoint.safetensors");
    const args = ["--eval-only", checkpoint, "--backend", "wasm", ...quickEvaluation];
    await trainMnist([...args, "--out", join(root, "wasm")]);
    // Node 20 runs relaxed SIMD once enabled, later versions by default.
    expect(printed.lines[0]).toMatch(/^backend: wasm, [1-9]\d* threads?, relaxed-SIMD fused multiply-adds$/);
  });

  describe("on a terminal", () => {
    /** What was written, in order: console lines as they are, progress writes marked "out:". */
    let written: string[];
    beforeEach(() => {
      written = [];
      Object.defineProperty(process.stdout, "isTTY", { value: true, configurable: true });
      const columns = Object.getOwnPropertyDescriptor(process.stdout, "columns");
      Object.defineProperty(process.stdout, "columns", { value: 200, configurable: true });
      vi.spyOn(console, "log").mockImplementation((line: string) => {
        written.push(line);
      });
      vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
        written.push(`out:${String(chunk)}`);
        return true;
      });
      return () => {
        if (columns === undefined) delete (process.stdout as { columns?: number }).columns;
        else Object.defineProperty(process.stdout, "columns", columns);
      };
    });
    const count = (text: string) => written.filter((w) => w.startsWith("out:") && w.includes(text)).length;
    /** Whether the last bar drawn was then cleared (ESC [ 2 K), leaving its line to what follows. */
    const lastBarCleared = () => {
      const last = Math.max(
        ...written.flatMap((w, i) => (w.startsWith("out:") && w.includes(" steps  loss ") ? [i] : [])),
      );
      return written.slice(last).some((w) => w.includes("\x1b[2K"));
    };

    it("draws each epoch's own bar and clears it before the epoch's line, never hiding the cursor", async () => {
      const args = ["--hidden", "8", "--latent", "2", "--batch-size", "16", ...quickEvaluation];
      const out = join(root, "terminal");
      await trainMnist([...args, ...on48(), "--epochs", "2", "--out", out]);
      let previousLine = -1;
      for (const epoch of [1, 2]) {
        const line = written.findIndex((w) => w.startsWith(`epoch ${epoch}/2  loss`));
        const drawn = written.flatMap((w, i) =>
          w.startsWith("out:") && w.includes(`epoch ${epoch}/2 [`) ? [i] : [],
        );
        // Drawn after the previous epoch's line, last with the epoch's last step, then cleared
        // (ESC [ 2 K), then the epoch's line.
        expect(drawn[0], `epoch ${epoch}`).toBeGreaterThan(previousLine);
        const last = drawn[drawn.length - 1];
        expect(written[last]).toMatch(new RegExp(`epoch ${epoch}/2 \\[[░█]+\\] 3/3 steps`));
        expect(last, `epoch ${epoch}`).toBeLessThan(line);
        expect(
          written.slice(last, line).some((w) => w.includes("\x1b[2K")),
          `epoch ${epoch}`,
        ).toBe(true);
        previousLine = line;
      }
      // One bar an epoch, each started once.
      expect(count("loss …")).toBe(2);
      expect(count("\x1b[?25l")).toBe(0);
    });

    it("ends the bar before the message when training stops mid-epoch", async () => {
      const args = ["--hidden", "8", "--latent", "2", "--batch-size", "8", "--lr", "1e30"];
      await expect(trainMnist([...args, ...on48(), "--out", join(root, "diverged")])).rejects.toThrow(
        "training stopped: the loss became NaN at epoch 1, step 2/6",
      );
      expect(count("epoch 1/5 [")).toBeGreaterThan(0);
      expect(lastBarCleared()).toBe(true);
    });

    it("ends the bar before it stops when its launcher is gone mid-epoch", async () => {
      watch.goneWhen = () => watch.checks === 2;
      const args = ["--hidden", "8", "--latent", "2", "--batch-size", "8"];
      await expect(trainMnist([...args, ...on48(), "--out", join(root, "gone-mid-epoch")])).rejects.toThrow(
        /^stopped because npm \(pid 4242\), which started this run, has exited during epoch 1, after step 2\/6/,
      );
      expect(count("epoch 1/5 [")).toBeGreaterThan(0);
      expect(lastBarCleared()).toBe(true);
    });
  });
});

describe("iwaeLine", () => {
  it("prints the bound with its standard error, and says there is none for one image", () => {
    expect(iwaeLine({ logLikelihood: -109.584, standardError: 1.004, k: 50, images: 1000 })).toBe(
      "test: IWAE log p(x) ≥ -109.58 ± 1.00 nats (k=50, 1000 images)",
    );
    expect(iwaeLine({ logLikelihood: -98.2, standardError: Number.NaN, k: 50, images: 1 })).toBe(
      "test: IWAE log p(x) ≥ -98.20 ± n/a (one image has no spread) nats (k=50, 1 image)",
    );
  });
});
