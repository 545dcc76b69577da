/**
 * What the charts say and in which font, read from the SVG that Vega draws and resvg rasterises
 * (resvg is wrapped here to keep each SVG and the options it was given, and still writes the PNG):
 * the axis titles name the embedding method, the legends and titles are the ones the report
 * promises, and the text is drawn in the DejaVu Sans files the package ships, never a system font,
 * so every machine draws the same picture. The report's own pictures (writePictures) are the loss
 * curve of the run's history and the latent map of the embedding of the test images' mean codes,
 * by the method asked for.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { ResvgRenderOptions } from "@resvg/resvg-js";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import { lossCurves, writePictures } from "../../src/train-mnist/pictures.ts";
import { interestingLossRange, writeLatentPlot, writeLossPlot } from "../../src/train-mnist/report.ts";
import { embed2d } from "../../src/vae/latent-map.ts";
import { pictureValues, startRun, trainRun } from "../../src/vae/run.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";
import { tinyConfig, tinyDataset, tinyTraining } from "../fixtures/tiny-run.ts";

const rendered = vi.hoisted(() => [] as { svg: string; options: ResvgRenderOptions | undefined }[]);
vi.mock("@resvg/resvg-js", async (importOriginal) => {
  const real = await importOriginal<typeof import("@resvg/resvg-js")>();
  class Resvg extends real.Resvg {
    constructor(svg: string | Buffer, options?: ResvgRenderOptions) {
      super(svg, options);
      rendered.push({ svg: String(svg), options });
    }
  }
  return { ...real, Resvg };
});

const dir = sharedTempDir("elbo-chart-text-");
beforeEach(() => {
  rendered.length = 0;
});

/** The SVG's text elements, in document order. */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
/** Vega numbers its clip paths across views: two drawings of one chart differ only there. */
const sameChart = (svg: string) => svg.replace(/clip\d+/g, "clip");

describe("the charts' text", () => {
  it("the latent map names its axes after the method and titles its legend 'digit', listing 0 to 9", async () => {
    const labels = Uint8Array.from([0, 1, 2, 3]);
    const xy = Float32Array.from([0, 0, 1, 1, 2, 0, 3, 1]);
    await writeLatentPlot(join(dir, "tsne.png"), xy, labels, { title: "map of t", method: "tsne" });
    await writeLatentPlot(join(dir, "umap.png"), xy, labels, { title: "map of u", method: "umap" });
    const [tsne, umap] = rendered.map((r) => texts(r.svg));
    const digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    for (const [words, name, title] of [
      [tsne, "t-SNE", "map of t"],
      [umap, "UMAP", "map of u"],
    ] as const) {
      expect(words).toContain(title);
      expect(words).toContain(`${name} 1`);
      expect(words).toContain(`${name} 2`);
      // The legend: every digit, present in the data or not, then its title.
      const legend = words.indexOf("digit");
      expect(legend, `${name}: the legend's title`).toBeGreaterThanOrEqual(10);
      expect(words.slice(legend - 10, legend)).toEqual(digits);
    }
  });

  it("the loss plot shows its title, its axes' labels and a legend naming each series, untitled", async () => {
    await writeLossPlot(
      join(dir, "loss.png"),
      [
        { name: "per step", x: [1, 2], y: [3, 2] },
        { name: "epoch average", x: [1, 2], y: [2.5, 2] },
      ],
      { title: "The title", xLabel: "the x label", yLabel: "the y label" },
    );
    const words = texts(rendered[0].svg);
    for (const text of ["The title", "the x label", "the y label"]) expect(words).toContain(text);
    // The legend lists the series in the order given (sort: null), with no title above them.
    const first = words.indexOf("per step");
    expect(words.slice(first, first + 2)).toEqual(["per step", "epoch average"]);
    expect(words).not.toContain("series");
  });

  it("draws every text in the package's DejaVu Sans files, never a system font", async () => {
    await writeLossPlot(join(dir, "font.png"), [{ name: "s", x: [1, 2], y: [1, 2] }], {
      title: "Bold title",
      xLabel: "x",
      yLabel: "y",
    });
    const [{ svg, options }] = rendered;
    const families = new Set([...svg.matchAll(/font-family="([^"]*)"/g)].map((m) => m[1]));
    expect([...families]).toEqual(["DejaVu Sans"]);
    // The title is bold: the regular and the bold files are both given, and they exist.
    expect(svg).toMatch(/font-weight="bold"/);
    const font = options?.font;
    expect(font?.loadSystemFonts).toBe(false);
    expect(font?.defaultFontFamily).toBe("DejaVu Sans");
    expect(font?.sansSerifFamily).toBe("DejaVu Sans");
    const files = font && "fontFiles" in font ? (font.fontFiles ?? []) : [];
    expect(files.map((f) => basename(f))).toEqual(["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"]);
    for (const f of files) {
      expect(existsSync(f), f).toBe(true);
      // A TrueType file: its first four bytes are the version 1.0 tag.
      expect(Array.from(readFileSync(f).subarray(0, 4)), f).toEqual([0, 1, 0, 0]);
    }
  });
});

describe("the report's pictures", () => {
  it.each([
    "tsne",
    "umap",
  ] as const)("with %s: the latent map of the test images' mean codes by that method, and the loss curve of the history", async (method) => {
    const test = tinyDataset(20, 2, 2, 2);
    // Three latent dimensions: one or two are drawn as they are, without a map.
    const config = { ...tinyConfig, latentDim: 3 };
    const run = startRun(config, tinyTraining({ epochs: 2, batchSize: 4 }));
    await trainRun(run, tinyDataset(8));
    // tsne is the default: asked for by leaving the option out.
    await writePictures(dir, run, test, new Generator(3), method === "tsne" ? {} : { latentMap: method });
    const [latent, loss] = rendered.map((r) => r.svg);
    expect(rendered).toHaveLength(2);

    // The same generator, fresh, draws the same numbers: the pictures' values, then the map's.
    const generator = new Generator(3);
    const values = await pictureValues(run, test, generator);
    const embedding = await embed2d(values.means, test.count, config.latentDim, generator, { method });
    const name = method === "tsne" ? "t-SNE" : "UMAP";
    await writeLatentPlot(join(dir, "expected.png"), embedding.xy, Uint8Array.from(test.labels), {
      title: `${name} of the latent means of 20 test images`,
      method,
    });
    expect(sameChart(latent)).toBe(sameChart(rendered[2].svg));

    const [steps, averages] = lossCurves(run.history);
    await writeLossPlot(join(dir, "expected.png"), [steps, averages], {
      title: "Training loss (−ELBO per image)",
      xLabel: "epoch",
      yLabel: "nats per image",
      yDomain: interestingLossRange(steps.y, averages.y),
    });
    expect(sameChart(loss)).toBe(sameChart(rendered[3].svg));
    expect(texts(loss)).toEqual(expect.arrayContaining(["Training loss (−ELBO per image)", "epoch"]));
  });
});
