/**
 * What the loss plot shows, read back from its pixels (chart-pixels.ts): each series' line passes
 * through every point it was given, in order, and nowhere else.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import {
  downsample,
  interestingLossRange,
  type LossSeries,
  MAX_LINE_POINTS,
  writeLossPlot,
} from "../../src/train-mnist/report.ts";
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

describe("a loss plot of millions of steps", () => {
  /** `n` steps at 100 nats, but for a spike to 300 and a dip to 10. */
  const long = (n: number, spike: number, dip: number): LossSeries => {
    const y = new Array<number>(n).fill(100);
    y[spike] = 300;
    y[dip] = 10;
    return { name: "per step", x: Array.from({ length: n }, (_, i) => i / 1000), y };
  };

  it("is drawn from at most MAX_LINE_POINTS points per line, keeping every bucket's lowest and highest in order", () => {
    const series = long(1_000_003, 654_321, 123_456);
    const shown = downsample(series);
    expect(shown.x.length).toBeLessThanOrEqual(MAX_LINE_POINTS);
    expect(shown.x.length).toBeGreaterThan(MAX_LINE_POINTS / 2);
    expect(shown.y).toContain(300);
    expect(shown.y).toContain(10);
    expect(shown.x[shown.y.indexOf(300)]).toBe(654.321);
    expect(shown.x[shown.y.indexOf(10)]).toBe(123.456);
    expect(shown.x.every((x, i) => i === 0 || x > shown.x[i - 1])).toBe(true);
    expect(shown.x[0]).toBe(0);
    // A short line is drawn as it is.
    const short = long(50, 3, 4);
    expect(downsample(short)).toBe(short);
  });

  it("has a loss range computed without spreading the losses into Math.min (which overflows the stack)", () => {
    const series = long(500_000, 7, 8);
    expect(interestingLossRange(series.y, [100, 120])).toEqual([4, 154]);
  });

  it("shows the spike and the dip of a million steps", async () => {
    const series = long(1_000_000, 700_000, 300_000);
    const path = join(dir, "long.png");
    await writeLossPlot(path, [series], { title: "t", xLabel: "x", yLabel: "y", yDomain: [0, 400] });
    const png = PNG.sync.read(readFileSync(path));
    const frame = plotFrame(png);
    const columns = rowsOfColour(png, SERIES_COLOURS[0]);
    const rowOf = (y: number) => frame.bottom - (y / 400) * (frame.bottom - frame.top);
    const columnOf = (x: number) => Math.round(frame.left + (x / 1000) * (frame.right - frame.left));
    const reaches = (x: number, y: number) =>
      [-2, -1, 0, 1, 2].some((d) => columns[columnOf(x) + d].some((r) => Math.abs(r - rowOf(y)) <= 4));
    expect(reaches(700, 300)).toBe(true);
    expect(reaches(300, 10)).toBe(true);
    expect(reaches(500, 300)).toBe(false);
  }, 60_000);
});
