/**
 * What the loss plot shows, read back from its pixels: the plot area is found from the grid lines
 * Vega draws at the ends of each axis's domain, and each series' line, found by its colour, must
 * pass through every point it was given (linear between them), in order, and nowhere else.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LossSeries, writeLossPlot } from "../../src/vae/report.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "elbo-loss-plot-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The first two colours of Vega-Lite's default categorical scheme (tableau10), in series order. */
const SERIES_COLOURS: [number, number, number][] = [
  [0x4c, 0x78, 0xa8],
  [0xf5, 0x85, 0x18],
];

interface Frame {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function isGrid(png: PNG, at: number): boolean {
  const [r, g, b] = [png.data[at], png.data[at + 1], png.data[at + 2]];
  return r === g && g === b && (r === 0xdd || r === 0x88); // grid lines #ddd, axis lines #888
}

/** The plot area: the outermost rows and columns that grid lines cross (drawn 2 px wide at zoom 2). */
function plotFrame(png: PNG): Frame {
  const rows: number[] = [];
  for (let y = 0; y < png.height; y++) {
    let n = 0;
    for (let x = 0; x < png.width; x++) if (isGrid(png, (y * png.width + x) * 4)) n++;
    if (n > png.width / 2) rows.push(y);
  }
  const cols: number[] = [];
  for (let x = 0; x < png.width; x++) {
    let n = 0;
    for (let y = 0; y < png.height; y++) if (isGrid(png, (y * png.width + x) * 4)) n++;
    if (n > png.height / 2) cols.push(x);
  }
  return { top: rows[0] + 1, bottom: rows[rows.length - 1], left: cols[0] + 1, right: cols[cols.length - 1] };
}

/** For each column of the picture, the rows painted in `colour` (exactly, anti-aliased edges left out). */
function rowsOfColour(png: PNG, colour: [number, number, number]): number[][] {
  const columns: number[][] = Array.from({ length: png.width }, () => []);
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const at = (y * png.width + x) * 4;
      if (png.data[at] === colour[0] && png.data[at + 1] === colour[1] && png.data[at + 2] === colour[2]) {
        columns[x].push(y);
      }
    }
  }
  return columns;
}

/** The series' value at x, linear between its points (x increasing). */
function interpolate({ x, y }: LossSeries, at: number): number {
  const i = Math.max(
    1,
    x.findIndex((xi) => xi >= at),
  );
  const t = (at - x[i - 1]) / (x[i] - x[i - 1]);
  return y[i - 1] + t * (y[i] - y[i - 1]);
}

/**
 * Checks that the line of `series` in `colour` follows its values inside the frame, whose corners
 * stand for (xDomain[0], yDomain[0]) and (xDomain[1], yDomain[1]): in every column between the
 * first and last x, the painted rows centre on the interpolated value, within a few pixels.
 */
function expectLineFollows(
  png: PNG,
  frame: Frame,
  series: LossSeries,
  colour: [number, number, number],
  xDomain: [number, number],
  yDomain: [number, number],
): void {
  const columns = rowsOfColour(png, colour);
  const column = (x: number) =>
    frame.left + ((x - xDomain[0]) / (xDomain[1] - xDomain[0])) * (frame.right - frame.left);
  const row = (y: number) =>
    frame.bottom - ((y - yDomain[0]) / (yDomain[1] - yDomain[0])) * (frame.bottom - frame.top);
  // The plot clips its marks at the frame: the last column inside it is right - 2 (the grid line is 2 px).
  const first = Math.max(Math.ceil(column(series.x[0])), frame.left + 1);
  const last = Math.min(Math.floor(column(series.x[series.x.length - 1])), frame.right - 2);
  let checked = 0;
  for (let c = first; c <= last; c++) {
    const painted = columns[c].filter((r) => r >= frame.top - 8 && r <= frame.bottom + 8);
    expect(painted.length, `column ${c} has no ${series.name} line`).toBeGreaterThan(0);
    const centre = (Math.min(...painted) + Math.max(...painted)) / 2;
    const x = xDomain[0] + ((c - frame.left) / (frame.right - frame.left)) * (xDomain[1] - xDomain[0]);
    const expected = row(interpolate(series, Math.min(Math.max(x, series.x[0]), series.x.at(-1) as number)));
    const nearPoint = series.x.some((xi) => Math.abs(column(xi) - c) < 8);
    // Where the line is steep, the exact-colour mask loses the anti-aliased ends of a column's run,
    // and at a point the dot and the stroke's join widen it: allow for both, in pixels.
    const slope =
      Math.abs(
        row(interpolate(series, Math.min(x + 0.01, series.x.at(-1) as number))) -
          row(interpolate(series, Math.max(x - 0.01, series.x[0]))),
      ) /
      (column(0.02) - column(0));
    const allowed = (nearPoint ? 6 : 3) + 1.5 * slope;
    expect(
      Math.abs(centre - expected),
      `${series.name} at column ${c} (x ${x.toFixed(2)})`,
    ).toBeLessThanOrEqual(allowed);
    checked++;
  }
  expect(checked).toBeGreaterThan(100);
  // Nothing of this colour in the plot area outside the series' x range (beyond its end points' dots).
  for (let c = frame.left; c <= frame.right; c++) {
    if (c >= first - 8 && c <= last + 8) continue;
    expect(
      columns[c].filter((r) => r >= frame.top && r <= frame.bottom),
      `column ${c}`,
    ).toEqual([]);
  }
}

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
