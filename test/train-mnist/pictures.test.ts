/**
 * The report's pictures as writePictures puts them on disk, read back: the digit grids hold the
 * values pictureValues computes, tile by tile, and the loss plot draws the run's history, which is
 * what metrics.json lists: every step's loss and every epoch's average.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { beforeEach, describe, expect, it } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import type { TypedArray } from "../../src/kernels/backend.ts";
import { lossCurves, PICTURE_FILES, writePictures } from "../../src/train-mnist/pictures.ts";
import { interestingLossRange } from "../../src/train-mnist/report.ts";
import { pictureValues, type Run, startRun, trainRun } from "../../src/vae/run.ts";
import type { EpochResult } from "../../src/vae/train.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "../fixtures/tiny-run.ts";
import { CATEGORY10, expectLineFollows, plotFrame, SERIES_COLOURS } from "./chart-pixels.ts";

describe("lossCurves", () => {
  it("puts step s of epoch e at e − 1 + s/steps and each epoch's average at e", () => {
    const history: EpochResult[] = [1, 2, 3].map((epoch) => ({
      epoch,
      loss: 100 - epoch,
      bce: 0,
      kl: 0,
      seconds: 0,
      stepLosses: [0, 1, 2, 3, 4].map((s) => 200 - 10 * epoch - s),
    }));
    const [steps, averages] = lossCurves(history);
    expect(steps.name).toBe("per step");
    expect(averages.name).toBe("epoch average");
    const expectedX = history.flatMap((e) => e.stepLosses.map((_, s) => e.epoch - 1 + (s + 1) / 5));
    expect(steps.x.length).toBe(15);
    steps.x.forEach((x, i) => {
      expect(x).toBeCloseTo(expectedX[i], 12);
    });
    expect(steps.y).toEqual(history.flatMap((e) => e.stepLosses));
    expect(averages).toMatchObject({ x: [1, 2, 3], y: [99, 98, 97] });
    expect(lossCurves([]).map((s) => s.x.length)).toEqual([0, 0]);
  });
});

describe("writePictures", () => {
  const test = tinyDataset(20, 2, 2, 2);
  const dir = sharedTempDir("elbo-pictures-");
  let run: Run;
  // Trained by the first test that needs it, not in beforeAll: work done outside a test is invisible
  // to mutation testing's per-test coverage, which then runs every test against every mutant.
  beforeEach(async () => {
    if (run !== undefined) return;
    run = startRun(tinyConfig, tinyTraining({ epochs: 3, batchSize: 4 }));
    await trainRun(run, tinyDataset(16));
  });
  const read = (name: string) => PNG.sync.read(readFileSync(join(dir, name)));

  /** Every pixel of a grid of 2×2 images at scale 2 with 2 px gaps, against the values. */
  function expectGrid(png: PNG, values: TypedArray, count: number, perRow: number): void {
    expect([png.width, png.height]).toEqual([perRow * 6 + 2, Math.ceil(count / perRow) * 6 + 2]);
    for (let n = 0; n < count; n++) {
      for (let p = 0; p < 4; p++) {
        const x = 2 + (n % perRow) * 6 + (p % 2) * 2;
        const y = 2 + Math.floor(n / perRow) * 6 + Math.floor(p / 2) * 2;
        const grey = Math.round(Math.min(1, Math.max(0, values[n * 4 + p])) * 255);
        const at = (y * png.width + x) * 4;
        expect(Array.from(png.data.subarray(at, at + 3)), `image ${n}, pixel ${p}`).toEqual([
          grey,
          grey,
          grey,
        ]);
      }
    }
  }

  // One test: Stryker counts only what a test itself runs, not what a hook ran for it.
  it("writes the four pictures: the digit grids, the latent map's digits, the loss plot of the history", async () => {
    await writePictures(dir, run, test, new Generator(3));
    expect(readdirSync(dir).sort()).toEqual([...PICTURE_FILES].sort());

    // The originals above their reconstructions, and 64 samples eight to a row. The same
    // generator, fresh: pictureValues draws first, so it sees the same numbers.
    const values = await pictureValues(run, test, new Generator(3));
    expectGrid(read("reconstructions.png"), values.originalsAndReconstructions, 32, 16);
    expectGrid(read("samples.png"), values.samples, 64, 8);

    // The latent map shows the test images' digits (0 to 9 here), each in its colour (drawn at
    // opacity 0.7 on white where a point does not overlap another).
    const latent = read("latent.png");
    const latentFrame = plotFrame(latent);
    const near = (at: number, [r, g, b]: number[]) =>
      Math.abs(latent.data[at] - r) <= 2 &&
      Math.abs(latent.data[at + 1] - g) <= 2 &&
      Math.abs(latent.data[at + 2] - b) <= 2;
    for (const [digit, colour] of CATEGORY10.entries()) {
      const onWhite = colour.map((c) => Math.round(0.7 * c + 0.3 * 255));
      let painted = 0;
      for (let y = latentFrame.top + 1; y < latentFrame.bottom; y++) {
        for (let x = latentFrame.left + 1; x < latentFrame.right; x++) {
          const at = (y * latent.width + x) * 4;
          if (near(at, onWhite) || near(at, colour)) painted++;
        }
      }
      expect(painted, `digit ${digit}`).toBeGreaterThan(0);
    }

    // Every step's loss and every epoch's average of the run's history.
    const png = read("loss.png");
    const frame = plotFrame(png);
    const [steps, averages] = lossCurves(run.history);
    expect(steps.y).toHaveLength(12);
    // The x axis has a tick every epoch, the last one on the frame's right side (epoch 3).
    const ticks = frame.gridColumns;
    const perEpoch = ticks[ticks.length - 1] - ticks[ticks.length - 2];
    expect(ticks[ticks.length - 1]).toBe(frame.right);
    const xDomain: [number, number] = [3 - (frame.right - frame.left) / perEpoch, 3];
    // It starts at the first step (1/4 of epoch 1), or below it where the axis rounds it down.
    expect(xDomain[0], "the x axis's start").toBeGreaterThan(-0.01);
    expect(xDomain[0], "the x axis's start").toBeLessThan(0.26);
    const yDomain = interestingLossRange(steps.y, averages.y);
    expectLineFollows(png, frame, steps, SERIES_COLOURS[0], xDomain, yDomain, SERIES_COLOURS[1]);
    expectLineFollows(png, frame, averages, SERIES_COLOURS[1], xDomain, yDomain);
  });
});
