/**
 * Reading a chart back from its pixels: the plot area from the grid lines Vega draws at the ends of
 * each axis's domain, and a series' line by its colour, which must pass through every point it was
 * given (linear between them), in order, and nowhere else.
 */

import type { PNG } from "pngjs";
import { expect } from "vitest";
import type { LossSeries } from "../../src/train-mnist/report.ts";

/** The first two colours of Vega-Lite's default categorical scheme (tableau10), in series order. */
export const SERIES_COLOURS: [number, number, number][] = [
  [0x4c, 0x78, 0xa8],
  [0xf5, 0x85, 0x18],
];

/** Vega's category10, the colour of digits 0 to 9. */
export const CATEGORY10: [number, number, number][] = [
  "1f77b4",
  "ff7f0e",
  "2ca02c",
  "d62728",
  "9467bd",
  "8c564b",
  "e377c2",
  "7f7f7f",
  "bcbd22",
  "17becf",
].map((hex) => [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number]);

export interface Frame {
  left: number;
  right: number;
  top: number;
  bottom: number;
  /** Where the vertical grid lines are (the x axis's ticks, and the frame's two sides). */
  gridColumns: number[];
}

function isGrid(png: PNG, at: number): boolean {
  const [r, g, b] = [png.data[at], png.data[at + 1], png.data[at + 2]];
  return r === g && g === b && (r === 0xdd || r === 0x88); // grid lines #ddd, axis lines #888
}

/** The plot area: the outermost rows and columns that grid lines cross (drawn 2 px wide at zoom 2). */
export function plotFrame(png: PNG): Frame {
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
  return {
    top: rows[0] + 1,
    bottom: rows[rows.length - 1],
    left: cols[0] + 1,
    right: cols[cols.length - 1],
    // Each line is 2 px wide: its centre is the boundary after its first column.
    gridColumns: cols.filter((c, i) => cols[i - 1] !== c - 1).map((c) => c + 1),
  };
}

/** For each column of the picture, the rows painted in `colour` (exactly, anti-aliased edges left out). */
export function rowsOfColour(png: PNG, colour: [number, number, number]): number[][] {
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
 * first and last x, the painted rows centre on the interpolated value, within a few pixels. Where
 * a line drawn later (in colour `under`) crosses it, the column is left out.
 */
export function expectLineFollows(
  png: PNG,
  frame: Frame,
  series: LossSeries,
  colour: [number, number, number],
  xDomain: [number, number],
  yDomain: [number, number],
  under?: [number, number, number],
): void {
  const columns = rowsOfColour(png, colour);
  const covering = under === undefined ? null : rowsOfColour(png, under);
  const column = (x: number) =>
    frame.left + ((x - xDomain[0]) / (xDomain[1] - xDomain[0])) * (frame.right - frame.left);
  const row = (y: number) =>
    frame.bottom - ((y - yDomain[0]) / (yDomain[1] - yDomain[0])) * (frame.bottom - frame.top);
  // The plot clips its marks at the frame: the last column inside it is right - 2 (the grid line is 2 px).
  const first = Math.max(Math.ceil(column(series.x[0])), frame.left + 1);
  const last = Math.min(Math.floor(column(series.x[series.x.length - 1])), frame.right - 2);
  let checked = 0;
  for (let c = first; c <= last; c++) {
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
    // The line drawn later covers this one where it passes within the stroke's reach.
    if (covering?.[c].some((r) => Math.abs(r - expected) < allowed + 6)) continue;
    const painted = columns[c].filter((r) => r >= frame.top - 8 && r <= frame.bottom + 8);
    expect(painted.length, `column ${c} has no ${series.name} line`).toBeGreaterThan(0);
    const centre = (Math.min(...painted) + Math.max(...painted)) / 2;
    expect(
      Math.abs(centre - expected),
      `${series.name} at column ${c} (x ${x.toFixed(2)})`,
    ).toBeLessThanOrEqual(allowed);
    checked++;
  }
  expect(checked, `${series.name}: columns seen`).toBeGreaterThan(Math.max(100, 0.8 * (last - first)));
  // Nothing of this colour in the plot area outside the series' x range (beyond its end points' dots).
  for (let c = frame.left; c <= frame.right; c++) {
    if (c >= first - 8 && c <= last + 8) continue;
    expect(
      columns[c].filter((r) => r >= frame.top && r <= frame.bottom),
      `column ${c}`,
    ).toEqual([]);
  }
}
