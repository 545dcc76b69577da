/**
 * The report's pictures pixel by pixel: a digit grid against every output pixel worked out from
 * where it falls (tile, source pixel, gap), opaque everywhere; its refusals; the loss range's
 * bounds as properties; and the latent map's points in their digit's colour at their place.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { interestingLossRange, writeImageGrid, writeLatentPlot } from "../../src/train-mnist/report.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";
import { CATEGORY10, plotFrame, rowsOfColour } from "./chart-pixels.ts";

const dir = sharedTempDir("elbo-report-pictures-");
const read = (name: string) => PNG.sync.read(readFileSync(join(dir, name)));

describe("writeImageGrid", () => {
  it("paints every output pixel: the source pixel it scales up, or the grey gap, opaque", () => {
    fc.assert(
      fc.property(
        fc.record({
          count: fc.integer({ min: 1, max: 7 }),
          rows: fc.integer({ min: 1, max: 4 }),
          cols: fc.integer({ min: 1, max: 4 }),
          gridCols: fc.integer({ min: 1, max: 4 }),
          scale: fc.integer({ min: 1, max: 3 }),
          padding: fc.integer({ min: 0, max: 2 }),
        }),
        ({ count, rows, cols, gridCols, scale, padding }) => {
          const images = Float32Array.from({ length: count * rows * cols }, (_, i) => ((i * 7) % 13) / 12);
          writeImageGrid(join(dir, "grid.png"), images, count, rows, cols, gridCols, { scale, padding });
          const png = read("grid.png");
          const [tileW, tileH] = [cols * scale + padding, rows * scale + padding];
          expect([png.width, png.height]).toEqual([
            gridCols * tileW + padding,
            Math.ceil(count / gridCols) * tileH + padding,
          ]);
          for (let y = 0; y < png.height; y++) {
            for (let x = 0; x < png.width; x++) {
              const [tx, ty] = [(x - padding) % tileW, (y - padding) % tileH];
              const n = Math.floor((y - padding) / tileH) * gridCols + Math.floor((x - padding) / tileW);
              const inside =
                x >= padding && y >= padding && tx < cols * scale && ty < rows * scale && n < count;
              const value = inside
                ? Math.round(
                    images[(n * rows + Math.floor(ty / scale)) * cols + Math.floor(tx / scale)] * 255,
                  )
                : 128;
              const at = (y * png.width + x) * 4;
              expect(Array.from(png.data.subarray(at, at + 4)), `(${x}, ${y})`).toEqual([
                value,
                value,
                value,
                255,
              ]);
            }
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it("refuses sizes that are not positive integers, and a negative or fractional padding, by name", () => {
    const path = join(dir, "bad.png");
    const images = new Float32Array(64);
    const sizes = { count: 1, rows: 2, cols: 2, gridCols: 1, scale: 1 };
    for (const name of Object.keys(sizes) as (keyof typeof sizes)[]) {
      for (const bad of [0, -1, 1.5]) {
        const s = { ...sizes, [name]: bad };
        expect(
          () => writeImageGrid(path, images, s.count, s.rows, s.cols, s.gridCols, { scale: s.scale }),
          `${name} ${bad}`,
        ).toThrow(`writeImageGrid: ${name} must be a positive integer, got ${bad}`);
      }
    }
    for (const bad of [-1, 0.5]) {
      expect(() => writeImageGrid(path, images, 1, 2, 2, 1, { padding: bad })).toThrow(
        `writeImageGrid: padding must be a non-negative integer, got ${bad}`,
      );
    }
  });
});

describe("interestingLossRange", () => {
  const loss = fc.double({ min: 50, max: 600, noNaN: true });
  it("spans the lowest loss to a quarter of the spread above the highest epoch average, in whole nats", () => {
    fc.assert(
      fc.property(
        fc.array(loss, { minLength: 1, maxLength: 30 }),
        fc.array(loss, { minLength: 1, maxLength: 5 }),
        (steps, epochs) => {
          const [low, high] = interestingLossRange(steps, epochs);
          const lowest = Math.min(...steps, ...epochs);
          const highest = Math.max(...epochs);
          const spread = highest - lowest;
          expect(Number.isInteger(low) && Number.isInteger(high)).toBe(true);
          // 5% of the spread below the lowest loss, rounded down.
          expect(low).toBe(Math.floor(lowest - 0.05 * spread));
          // A quarter of the spread and 5% of the highest average above it, rounded up.
          expect(high).toBe(Math.ceil(highest + 0.25 * spread + 0.05 * highest));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("leaves out losses that are not finite, and needs one finite loss of each kind", () => {
    const steps = [300, 200, 150];
    const epochs = [220, 160];
    const range = interestingLossRange(steps, epochs);
    expect(
      interestingLossRange([Number.NaN, ...steps, Number.POSITIVE_INFINITY], [...epochs, Number.NaN]),
    ).toEqual(range);
    expect(
      interestingLossRange([...steps, Number.NEGATIVE_INFINITY], [Number.POSITIVE_INFINITY, ...epochs]),
    ).toEqual(range);
    const refusal = "interestingLossRange: needs at least one finite step loss and one finite epoch loss";
    expect(() => interestingLossRange([Number.NaN], [100])).toThrow(refusal);
    expect(() => interestingLossRange([100], [Number.NaN])).toThrow(refusal);
    expect(() => interestingLossRange([], [])).toThrow(refusal);
  });
});

describe("writeLatentPlot", () => {
  /** The centre of the pixels painted in `colour` inside the frame, or null if none. */
  function centreOf(png: PNG, colour: [number, number, number], frame: ReturnType<typeof plotFrame>) {
    let [sx, sy, n] = [0, 0, 0];
    rowsOfColour(png, colour).forEach((rows, x) => {
      if (x < frame.left || x > frame.right) return;
      for (const y of rows) {
        if (y < frame.top || y > frame.bottom) continue;
        sx += x;
        sy += y;
        n++;
      }
    });
    return n === 0 ? null : { x: sx / n, y: sy / n };
  }

  it("draws each point in its digit's colour where its coordinates say, filling the frame", async () => {
    // Digits 3 and 7 only (colours fixed by digit, not by which digits are present), in turn, each a
    // tight cluster: 3 near (1000, 550), 7 near (1010, 520), far from the origin on both axes.
    const labels = Uint8Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 3 : 7));
    const xy = Float32Array.from({ length: 40 }, (_, k) => {
      const [i, axis] = [Math.floor(k / 2), k % 2];
      const jitter = ((i * 3) % 5) * 0.02;
      return i % 2 === 0 ? [1000, 550][axis] + jitter : [1010, 520][axis] + jitter;
    });
    await writeLatentPlot(join(dir, "latent.png"), xy, labels, { title: "t", method: "tsne" });
    const png = read("latent.png");
    const frame = plotFrame(png);
    const three = centreOf(png, CATEGORY10[3], frame);
    const seven = centreOf(png, CATEGORY10[7], frame);
    expect(three, "digit 3's colour").not.toBeNull();
    expect(seven, "digit 7's colour").not.toBeNull();
    for (const other of [0, 1, 2, 4, 5, 6, 8, 9])
      expect(centreOf(png, CATEGORY10[other], frame), `digit ${other}`).toBeNull();
    if (three === null || seven === null) return;
    // 7 lies right of and below 3, and the axes fit the data, not the origin: the clusters sit
    // well apart across the frame.
    const [width, height] = [frame.right - frame.left, frame.bottom - frame.top];
    expect((seven.x - three.x) / width).toBeGreaterThan(0.5);
    expect((seven.y - three.y) / height).toBeGreaterThan(0.5);
  });

  it("names its axes after the method", async () => {
    const labels = Uint8Array.from([0, 1, 2]);
    const xy = Float32Array.from([0, 0, 1, 1, 2, 0]);
    await writeLatentPlot(join(dir, "tsne.png"), xy, labels, { title: "t", method: "tsne" });
    await writeLatentPlot(join(dir, "umap.png"), xy, labels, { title: "t", method: "umap" });
    expect(readFileSync(join(dir, "tsne.png")).equals(readFileSync(join(dir, "umap.png")))).toBe(false);
  });
});
