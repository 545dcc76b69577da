/**
 * Runs at the edges of what the flags and the data allow, in this process: sizes that cannot fit
 * are refused before any work, naming the flag (they used to fail with "Invalid typed array
 * length", or after training); a 1-D latent space is drawn as a strip per digit (t-SNE used to
 * crash on it after training, costing metrics.json); a test set too small for a latent map is
 * refused before training; and a resumed run that diverges says what can be done, since --lr
 * cannot be changed when continuing.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { checkMemory, formatBytes, memoryParts, parameterCount } from "../../src/train-mnist/memory.ts";
import { trainMnist } from "../../src/train-mnist/train-mnist.ts";
import { consoleLines } from "../fixtures/console-lines.ts";
import { writeMnistFolder } from "../fixtures/mnist-folder.ts";
import { withMetadata } from "../fixtures/safetensors-bytes.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";
import { CATEGORY10, plotFrame, rowsOfColour } from "./chart-pixels.ts";

const root = sharedTempDir("elbo-run-limits-");
const data = writeMnistFolder(join(root, "data"), [40, 28, 28], [30, 28, 28]);
const printed = consoleLines();
const quick = ["--backend", "cpu", "--batch-size", "8", "--iw-k", "2", "--iw-images", "3"];
let runs = 0;
const out = () => join(root, `run-${runs++}`);
const readMetrics = (dir: string) => JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8"));

describe("a run too large for the machine", () => {
  it("is refused before any work, naming the flag: --hidden, --batch-size or --iw-k of 100000000", async () => {
    const base = ["--data", data, "--backend", "cpu", "--hidden", "8", "--latent", "2"];
    for (const [flag, what] of [
      [
        "--hidden",
        /the model's \d+ parameters with their gradients, Adam's two moments and a checkpoint's copies/,
      ],
      ["--iw-k", /the IWAE bound on 100000000 rows at once \(k = 100000000 samples per image\)/],
    ] as const) {
      const refused = trainMnist([...base, flag, "100000000", "--out", out()]);
      await expect(refused, flag).rejects.toThrow(new RegExp(`^${flag} 100000000: `));
      await expect(refused, flag).rejects.toThrow(what);
    }
    // The batch is no larger than the 40 images: 100000000 asks for one batch of all of them.
    const whole = out();
    await trainMnist([
      ...base,
      "--batch-size",
      "100000000",
      "--epochs",
      "1",
      "--iw-k",
      "2",
      "--iw-images",
      "3",
      "--out",
      whole,
    ]);
    expect(readMetrics(whole).epochs[0].loss).toBeGreaterThan(0);
    expect(printed.lines).not.toContainEqual(expect.stringMatching(/^epoch 2/));
  }, 60_000);

  it("counts what each part holds, and names the largest part's flag when the sum does not fit", () => {
    const config = { inputDim: 784, latentDim: 10, encUnits: 200, decUnits: 200 };
    expect(parameterCount(config)).toBe(
      784 * 200 + 200 + 2 * (200 * 10 + 10) + 10 * 200 + 200 + 200 * 784 + 784,
    );
    const shape = { config, batchSize: 128, iwK: 50, iwImages: 1000, trainCount: 60_000, testCount: 10_000 };
    const parts = memoryParts(shape);
    expect(parts.resident.numbers).toBe(7 * parameterCount(config));
    expect(parts.data).toBe(70_000 * 784);
    const flags = { "--hidden": 200, "--batch-size": 128, "--iw-k": 50 };
    // The tutorial's run fits in a few hundred MB, on any backend.
    expect(() =>
      checkMemory(shape, flags, { available: 400e6, backend: { name: "wasm", bytes: 2 ** 31 } }),
    ).not.toThrow();
    // Too small for the evaluation's batches, which hold 5000 rows whatever k is: no flag to blame.
    expect(() => checkMemory(shape, flags, { available: 100e6 })).toThrow(
      /^the run would need about \d+ MB of memory \(the IWAE bound on 5000 rows at once \(k = 50 samples per image\): \d+ MB\), more than the 100 MB here; the evaluation alone needs more than there is$/,
    );
    // The whole test set encoded at once for the pictures, when the test set is huge.
    expect(() => checkMemory({ ...shape, testCount: 2_000_000 }, flags, { available: 10e9 })).toThrow(
      /^--data: the run would need about [\d.]+ GB of memory \(the test −ELBO and the pictures on 2000000 test images: [\d.]+ GB\), more than the 10 GB here; use a smaller test set$/,
    );
    const wide = { ...shape, config: { ...config, encUnits: 115_000, decUnits: 115_000 } };
    const wideFlags = { ...flags, "--hidden": 115_000 };
    expect(() => checkMemory(wide, wideFlags, { available: 64e9 })).not.toThrow();
    expect(() =>
      checkMemory(wide, wideFlags, { available: 64e9, backend: { name: "wasm", bytes: 2 ** 31 } }),
    ).toThrow(
      /^--hidden 115000: the run would need about [\d.]+ GB on the wasm backend \(.*\), more than the 2\.1 GB it can hold; choose a smaller --hidden, or use --backend cpu$/,
    );
    // One tensor past 2³² numbers, whatever the machine: 784 × 6,000,000 weights.
    const huge = { ...shape, config: { ...config, encUnits: 6e6, decUnits: 6e6 } };
    expect(() => checkMemory(huge, { "--hidden": 6e6 }, { available: 1e18 })).toThrow(
      "--hidden 6000000: the model's",
    );
    expect(() => checkMemory(huge, { "--hidden": 6e6 }, { available: 1e18 })).toThrow(
      "would need one tensor of 4704000000 numbers, more than the 4294967296 one array holds",
    );
    expect(formatBytes(999)).toBe("999 bytes");
    expect(formatBytes(2_300_000_000)).toBe("2.3 GB");
  });
});

describe("a one-dimensional latent space", () => {
  it("is drawn as a strip of latent means per digit, and the report is whole (t-SNE used to crash on it)", async () => {
    const dir = out();
    await trainMnist([
      "--data",
      data,
      ...quick,
      "--hidden",
      "8",
      "--latent",
      "1",
      "--epochs",
      "1",
      "--out",
      dir,
    ]);
    expect(printed.lines.at(-1)).toBe(
      `report written to ${dir}/ (metrics.json, checkpoint.safetensors, reconstructions.png, samples.png, latent.png, loss.png)`,
    );
    expect(readMetrics(dir).model.latentDim).toBe(1);
    // A strip per digit present (0 to 9, three test images each), each in its digit's colour.
    const png = PNG.sync.read(readFileSync(join(dir, "latent.png")));
    const frame = plotFrame(png);
    for (const [digit, colour] of CATEGORY10.entries()) {
      const painted = rowsOfColour(png, colour)
        .slice(frame.left, frame.right + 1)
        .flat()
        .filter((y) => y > frame.top && y < frame.bottom);
      expect(painted.length, `digit ${digit}`).toBeGreaterThan(0);
    }
  }, 60_000);
});

describe("a test set too small for a latent map", () => {
  it("is refused before training when the latent space needs a map; drawn as it is when it does not", async () => {
    const tiny = writeMnistFolder(join(root, "tiny-test"), [40, 28, 28], [2, 28, 28]);
    await expect(
      trainMnist(["--data", tiny, ...quick, "--hidden", "8", "--latent", "3", "--out", out()]),
    ).rejects.toThrow(
      `${join(tiny, "t10k-images-idx3-ubyte")}: holds 2 test image(s), but the latent map needs at least 3 (a latent space of 1 or 2 dimensions is drawn without one)`,
    );
    expect(printed.lines.some((l) => l.startsWith("epoch "))).toBe(false);
    const dir = out();
    await trainMnist([
      "--data",
      tiny,
      ...quick,
      "--hidden",
      "8",
      "--latent",
      "2",
      "--epochs",
      "1",
      "--out",
      dir,
    ]);
    expect(readMetrics(dir).test.negativeElbo.images).toBe(2);
  }, 60_000);
});

describe("a resumed run that diverges", () => {
  it("says --lr cannot be changed when continuing, and, at the first step, that the checkpoint is likely damaged", async () => {
    const first = out();
    await trainMnist([
      "--data",
      data,
      ...quick,
      "--hidden",
      "8",
      "--latent",
      "2",
      "--epochs",
      "1",
      "--out",
      first,
    ]);
    const checkpoint = join(first, "checkpoint.safetensors");
    const bytes = new Uint8Array(readFileSync(checkpoint));
    const training = JSON.parse(
      new TextDecoder().decode(
        bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))),
      ),
    ).__metadata__.training;
    const damaged = join(root, "lr-1e300.safetensors");
    writeFileSync(
      damaged,
      withMetadata(bytes, "training", JSON.stringify({ ...JSON.parse(training), lr: 1e300 })),
    );
    const resumed = trainMnist([
      "--resume",
      damaged,
      "--epochs",
      "2",
      "--iw-k",
      "2",
      "--iw-images",
      "3",
      "--out",
      out(),
    ]);
    await expect(resumed).rejects.toThrow(
      /^training stopped: .* at epoch 2, step 1\/5 \(at the first step after resuming, so the state saved in .*lr-1e300\.safetensors is likely damaged; --lr cannot be changed when continuing \(the checkpoint's is 1e\+300\): start a new run with a smaller --lr, or continue from an earlier checkpoint\)/,
    );
    await expect(resumed).rejects.not.toThrow(/try a smaller --lr/);
  }, 60_000);
});
