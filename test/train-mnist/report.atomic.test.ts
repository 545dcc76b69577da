import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import { writeImageGrid, writeLossPlot } from "../../src/train-mnist/report.ts";
import { smallTmpfs } from "../fixtures/mounts.ts";

describe("the report's pictures on a full disk", () => {
  it("keep the previous picture whole and name the file that could not be written", async (ctx) => {
    const mount = smallTmpfs(64);
    if (mount === null) {
      ctx.skip();
      return;
    }
    const grid = join(mount, "samples.png");
    writeImageGrid(grid, Float32Array.from([0, 0.5, 1, 0.25]), 1, 2, 2, 1);
    const previous = readFileSync(grid);
    // 64 digits of noise at scale 4: about 800 KB of pixels that do not compress.
    const generator = new Generator(1);
    const noise = Float32Array.from({ length: 64 * 784 }, () => generator.uniform());
    expect(() => writeImageGrid(grid, noise, 64, 28, 28, 8, { scale: 4 })).toThrow(
      /samples\.png: could not be written \(.*\); the previous file, if any, is unchanged/,
    );
    expect(readFileSync(grid).equals(previous)).toBe(true);

    const chart = join(mount, "loss.png");
    await writeLossPlot(chart, [{ name: "per step", x: [1, 2], y: [3, 2] }], {
      title: "t",
      xLabel: "x",
      yLabel: "y",
    });
    const chartBefore = readFileSync(chart);
    // Fill the rest of the disk (a plain write keeps what fits), then draw the chart again.
    expect(() => writeFileSync(join(mount, "filler"), Buffer.alloc(1 << 20))).toThrow(/ENOSPC/);
    await expect(
      writeLossPlot(chart, [{ name: "per step", x: [1, 2, 3], y: [3, 2, 1] }], {
        title: "another title, so the picture differs",
        xLabel: "x",
        yLabel: "y",
      }),
    ).rejects.toThrow(/loss\.png: could not be written/);
    expect(readFileSync(chart).equals(chartBefore)).toBe(true);
    expect(readdirSync(mount).sort()).toEqual(["filler", "loss.png", "samples.png"]);
  });
});
