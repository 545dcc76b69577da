/**
 * What the loss plot shows, read back from its pixels (chart-pixels.ts): each series' line passes
 * through every point it was given, in order, and nowhere else.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { type LossSeries, writeLossPlot } from "../../src/train-mnist/report.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";
import { expectLineFollows, plotFrame, rowsOfColour, SERIES_COLOURS } from "./chart-pixels.ts";

const dir = sharedTempDir("elbo-loss-plot-");

describe("the loss plot shows the losses it is given", () => {
  it("a line through every step loss and one through every epoch average, each in order", async () => {
    const steps: LossSeries = {
      name: "per step",
      x: [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5],
      y: [90, 40, 55, 20, 35, 30, 60, 15, 25],
    };
    // Above every step loss after the first, so that the lines never cross (one would hide the other).
    const averages: LossSeries = { name: "epoch average", x: [1, 3, 5], y: [97, 75, 68] };
    const path = join(dir, "loss.png");
    await writeLossPlot(path, [steps, averages], {
      title: "Training loss",
      xLabel: "epoch",
      yLabel: "nats",
      yDomain: [0, 100],
    });
    const png = PNG.sync.read(readFileSync(path));
    const frame = plotFrame(png);
    // 560×320 drawn at twice its size.
    expect([frame.right - frame.left, frame.bottom - frame.top]).toEqual([1120, 640]);
    expectLineFollows(png, frame, steps, SERIES_COLOURS[0], [1, 5], [0, 100]);
    expectLineFollows(png, frame, averages, SERIES_COLOURS[1], [1, 5], [0, 100]);
  });

  it("clips what lies outside the y range at the plot's edge, and scales to the data without one", async () => {
    const series: LossSeries = { name: "per step", x: [1, 2, 3, 4], y: [250, 150, 130, 110] };
    const clipped = join(dir, "clipped.png");
    await writeLossPlot(clipped, [series], {
      title: "t",
      xLabel: "epoch",
      yLabel: "nats",
      yDomain: [100, 160],
    });
    const png = PNG.sync.read(readFileSync(clipped));
    const frame = plotFrame(png);
    const columns = rowsOfColour(png, SERIES_COLOURS[0]);
    const painted = columns.slice(frame.left, frame.right + 1).flat();
    // The steep first segment runs up to the top edge and stops there.
    expect(Math.min(...painted)).toBeGreaterThanOrEqual(frame.top - 1);
    expectLineFollows(
      png,
      frame,
      // From where the first segment crosses 160 (the top edge) on.
      { name: "the part inside", x: [1 + (250 - 160) / (250 - 150), 2, 3, 4], y: [160, 150, 130, 110] },
      SERIES_COLOURS[0],
      [1, 4],
      [100, 160],
    );

    // Without a y range the axis spans the data (not from 0): 110 at the bottom, 250 near the top.
    const free = join(dir, "free.png");
    await writeLossPlot(free, [series], { title: "t", xLabel: "epoch", yLabel: "nats" });
    const whole = PNG.sync.read(readFileSync(free));
    const wholeFrame = plotFrame(whole);
    const line = rowsOfColour(whole, SERIES_COLOURS[0])
      .slice(wholeFrame.left, wholeFrame.right + 1)
      .flat();
    const height = wholeFrame.bottom - wholeFrame.top;
    expect(wholeFrame.bottom - Math.max(...line)).toBeLessThan(0.2 * height);
    expect(Math.min(...line) - wholeFrame.top).toBeLessThan(0.2 * height);
  });

  it("marks every point with a dot wider than the line", async () => {
    const flat: LossSeries = { name: "per step", x: [1, 2, 3], y: [50, 50, 50] };
    await writeLossPlot(join(dir, "dots.png"), [flat], {
      title: "t",
      xLabel: "x",
      yLabel: "y",
      yDomain: [0, 100],
    });
    const png = PNG.sync.read(readFileSync(join(dir, "dots.png")));
    const frame = plotFrame(png);
    const columns = rowsOfColour(png, SERIES_COLOURS[0]);
    const span = (c: number) => {
      const rows = columns[c].filter((r) => r > frame.top && r < frame.bottom);
      return rows.length === 0 ? 0 : Math.max(...rows) - Math.min(...rows) + 1;
    };
    const middle = Math.round((frame.left + frame.right) / 2); // x = 2, a point
    const between = Math.round(frame.left + 0.25 * (frame.right - frame.left)); // x = 1.5, the line only
    expect(span(between)).toBeGreaterThan(0);
    expect(span(middle)).toBeGreaterThan(span(between) + 3);
  });

  it("refuses a series whose x and y differ in length, naming it", async () => {
    await expect(
      writeLossPlot(join(dir, "bad.png"), [{ name: "per step", x: [1, 2], y: [3] }], {
        title: "t",
        xLabel: "x",
        yLabel: "y",
      }),
    ).rejects.toThrow(/series "per step" has 2 x but 1 y/);
  });
});
