/**
 * A picture that fails never costs the report: metrics.json is written before the pictures, each
 * picture is drawn on its own, and the run ends naming the picture and why (exit 1), with the rest
 * written. (A t-SNE crash after training used to leave no metrics.json, and every later
 * --eval-only of that checkpoint failed the same way.)
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import { writePictures } from "../../src/train-mnist/pictures.ts";
import { trainMnist } from "../../src/train-mnist/train-mnist.ts";
import { startRun, trainRun } from "../../src/vae/run.ts";
import { writeMnistFolder } from "../fixtures/mnist-folder.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "../fixtures/tiny-run.ts";

/** The loss plot fails when `broken` says so; everything else draws as it does. */
const loss = vi.hoisted(() => ({ broken: false }));
vi.mock("../../src/train-mnist/report.ts", async (importOriginal) => {
  const report = await importOriginal<typeof import("../../src/train-mnist/report.ts")>();
  return {
    ...report,
    writeLossPlot: (...args: Parameters<typeof report.writeLossPlot>) =>
      loss.broken
        ? Promise.reject(new Error("the chart library ran out of memory"))
        : report.writeLossPlot(...args),
  };
});

const root = sharedTempDir("elbo-picture-failure-");
beforeEach(() => {
  loss.broken = false;
  vi.spyOn(console, "log").mockImplementation(() => {});
  vi.spyOn(console, "error").mockImplementation(() => {});
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  return () => vi.restoreAllMocks();
});

describe("writePictures", () => {
  it("draws the pictures it can and names the one it could not, with why", async () => {
    // Three latent dimensions need a map, and t-SNE needs 3 points: 2 test images cannot be mapped.
    const run = startRun({ ...tinyConfig, latentDim: 3 }, tinyTraining({ epochs: 1 }));
    await trainRun(run, tinyDataset(8));
    const dir = mkdtempSync(join(root, "pictures-"));
    const drawn = await writePictures(dir, run, tinyDataset(2), new Generator(1));
    expect(drawn.written).toEqual(["reconstructions.png", "samples.png", "loss.png"]);
    expect(drawn.failed).toEqual([
      { file: "latent.png", reason: "embed2d: needs at least 3 points, got count 2 and maxPoints 1000" },
    ]);
    expect(existsSync(join(dir, "latent.png"))).toBe(false);
    expect(existsSync(join(dir, "loss.png"))).toBe(true);
  });
});

describe("train:mnist when a picture fails", () => {
  it("keeps metrics.json, the checkpoint and the other pictures, and ends naming the picture", async () => {
    const data = writeMnistFolder(join(root, "data"), [32, 28, 28], [10, 28, 28]);
    const out = join(root, "run");
    loss.broken = true;
    const args = ["--data", data, "--backend", "cpu", "--hidden", "8", "--latent", "2", "--epochs", "1"];
    await expect(
      trainMnist([...args, "--batch-size", "8", "--iw-k", "2", "--iw-images", "3", "--out", out]),
    ).rejects.toThrow(
      "could not draw loss.png (the chart library ran out of memory); the rest of the report is written",
    );
    const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8"));
    expect(metrics.test.negativeElbo.images).toBe(10);
    expect(metrics.picturesFailed).toEqual([
      { file: "loss.png", reason: "the chart library ran out of memory" },
    ]);
    for (const file of ["checkpoint.safetensors", "reconstructions.png", "samples.png", "latent.png"]) {
      expect(existsSync(join(out, file)), file).toBe(true);
    }
    expect(existsSync(join(out, "loss.png"))).toBe(false);
  }, 60_000);
});
