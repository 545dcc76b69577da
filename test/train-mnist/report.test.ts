import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import {
  interestingLossRange,
  writeImageGrid,
  writeLatentPlot,
  writeLossPlot,
} from "../../src/train-mnist/report.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";

const dir = sharedTempDir("elbo-report-");

function readPng(path: string): PNG {
  return PNG.sync.read(readFileSync(path));
}

function rgbAt(png: PNG, x: number, y: number): [number, number, number] {
  const at = (y * png.width + x) * 4;
  return [png.data[at], png.data[at + 1], png.data[at + 2]];
}

/** The distinct colours of a chart's non-white pixels, and how many pixels are near black (text). */
function inkSummary(png: PNG): { colours: number; darkPixels: number } {
  const colours = new Set<number>();
  let darkPixels = 0;
  for (let at = 0; at < png.data.length; at += 4) {
    const [r, g, b] = [png.data[at], png.data[at + 1], png.data[at + 2]];
    if (r < 250 || g < 250 || b < 250) colours.add((r << 16) | (g << 8) | b);
    if (Math.max(r, g, b) < 40) darkPixels++;
  }
  return { colours: colours.size, darkPixels };
}

describe("writeImageGrid", () => {
  // Three 2×3 images; image n's pixel (r, c) is (n·6 + r·3 + c) / 17, so every pixel differs.
  const images = Float32Array.from({ length: 18 }, (_, i) => i / 17);

  it("tiles the images, scaled up, with grey padding, at the right places", () => {
    const path = join(dir, "grid.png");
    writeImageGrid(path, images, 3, 2, 3, 2, { scale: 2, padding: 1 });
    const png = readPng(path);
    // 2 tiles of 3·2 px across and 2 rows of 2·2 px, with 1 px around and between them.
    expect([png.width, png.height]).toEqual([2 * 6 + 3, 2 * 4 + 3]);
    const grey = (i: number): [number, number, number] => {
      const v = Math.round((i / 17) * 255);
      return [v, v, v];
    };
    expect(rgbAt(png, 1, 1)).toEqual(grey(0)); // image 0, pixel (0, 0)
    expect(rgbAt(png, 2, 2)).toEqual(grey(0)); // ... its 2×2 block
    expect(rgbAt(png, 1 + 2 * 2 + 1, 1 + 1 * 2)).toEqual(grey(5)); // image 0, pixel (1, 2)
    expect(rgbAt(png, 1 + 6 + 1, 1)).toEqual(grey(6)); // image 1 starts after the gap
    expect(rgbAt(png, 1 + 2 * 2, 1 + 4 + 1 + 1 * 2 + 1)).toEqual(grey(17)); // image 2, pixel (1, 2): 1.0
    expect(rgbAt(png, 0, 0)).toEqual([128, 128, 128]); // padding
    expect(rgbAt(png, 1 + 6 + 1 + 2, 1 + 4 + 1 + 2)).toEqual([128, 128, 128]); // the empty 4th slot
  });

  it("uses scale 2 by default, clamps to [0, 1] and paints NaN red", () => {
    const path = join(dir, "nan.png");
    writeImageGrid(path, Float32Array.from([Number.NaN, 2, -1, 0.5]), 1, 2, 2, 1, { padding: 0 });
    const png = readPng(path);
    expect([png.width, png.height]).toEqual([4, 4]);
    expect(rgbAt(png, 1, 1)).toEqual([255, 0, 0]);
    expect(rgbAt(png, 2, 0)).toEqual([255, 255, 255]);
    expect(rgbAt(png, 0, 2)).toEqual([0, 0, 0]);
    expect(rgbAt(png, 3, 3)).toEqual([128, 128, 128]);
  });

  it("refuses too few pixels", () => {
    expect(() => writeImageGrid(join(dir, "x.png"), new Float32Array(5), 1, 2, 3, 1)).toThrow(
      /need 6 values, got 5/,
    );
  });
});

describe("charts", () => {
  it("writeLossPlot draws lines in two colours, axes and text", async () => {
    const path = join(dir, "loss.png");
    await writeLossPlot(
      path,
      [
        { name: "train", x: [1, 2, 3], y: [147.5, 122.7, 119.4] },
        { name: "test", x: [1, 2, 3], y: [125.1, 120.3, 118.8] },
      ],
      { title: "Negative ELBO", xLabel: "epoch", yLabel: "nats per image" },
    );
    const png = readPng(path);
    // The 560×320 plot area, drawn at twice its size, plus axes, title and legend around it.
    expect(png.width).toBeGreaterThan(2 * 560);
    expect(png.height).toBeGreaterThan(2 * 320);
    const { colours, darkPixels } = inkSummary(png);
    expect(colours).toBeGreaterThan(2);
    expect(darkPixels).toBeGreaterThan(200); // text is black; without a font it would be missing
  });

  it("writeLatentPlot draws a scatter coloured by digit", async () => {
    const path = join(dir, "latent.png");
    const labels = Uint8Array.from({ length: 50 }, (_, i) => i % 10);
    const xy = Float32Array.from({ length: 100 }, (_, i) =>
      i % 2 === 0 ? (i / 2) % 10 : Math.floor(i / 20),
    );
    await writeLatentPlot(path, xy, labels, { title: "latent space", method: "tsne" });
    const png = readPng(path);
    expect(png.width).toBeGreaterThan(2 * 480);
    expect(inkSummary(png).colours).toBeGreaterThan(10);
    await expect(
      writeLatentPlot(path, xy, labels.subarray(1), { title: "", method: "umap" }),
    ).rejects.toThrow(/50 points but 49/);
  });
});

describe("interestingLossRange", () => {
  it("spans the losses after the first steps, not the 543 nats of initialisation", () => {
    const steps = [543, 300, 200, 160, 150, 140, 130, 125, 121, 119, 118];
    const [low, high] = interestingLossRange(steps, [149, 121]);
    expect(low).toBeLessThanOrEqual(118);
    expect(low).toBeGreaterThan(100);
    expect(high).toBeGreaterThan(149);
    expect(high).toBeLessThan(200);
  });

  it("refuses a run without a finite loss", () => {
    expect(() => interestingLossRange([Number.NaN], [Number.NaN])).toThrow(/at least one finite/);
  });
});
