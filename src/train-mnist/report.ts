/**
 * The pictures of a training report: grids of digits (reconstructions, samples), the loss curves,
 * and a 2-D map of the latent space (embedded by latent-map.ts).
 *
 * Digit grids are plain pixels, written directly with pngjs. Charts are described in Vega-Lite
 * (axes, ticks, legends come from a well-kept library instead of hand-drawn lines), rendered by
 * Vega to SVG in Node, and rasterised to PNG by resvg. resvg is given the DejaVu Sans files from the
 * `dejavu-fonts-ttf` npm package and told to ignore system fonts, so text renders on a machine
 * without any font installed and every machine draws the same picture.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { PNG } from "pngjs";
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { LatentMapMethod } from "../vae/latent-map.ts";
import { writeFileAtomic } from "./files.ts";

export interface ImageGridOptions {
  /** Each source pixel becomes a scale×scale block, so 28×28 digits are big enough to see. Default 2. */
  scale?: number;
  /** Grey gap, in output pixels, around and between the tiles. Default 2. */
  padding?: number;
}

/**
 * Tile `count` grayscale images (rows × cols each, values in [0, 1] where 1 is ink, drawn white on
 * black like torchvision's save_image) into a PNG with `gridCols` images per row. Values outside
 * [0, 1] are clamped; NaN pixels are painted red, so a diverged model shows instead of hiding.
 */
export function writeImageGrid(
  path: string,
  images: Float32Array | Float64Array,
  count: number,
  rows: number,
  cols: number,
  gridCols: number,
  options: ImageGridOptions = {},
): void {
  const { scale = 2, padding = 2 } = options;
  if (images.length < count * rows * cols) {
    throw new Error(
      `writeImageGrid: ${count} images of ${rows}×${cols} need ${count * rows * cols} values, got ${images.length}`,
    );
  }
  for (const [name, value] of Object.entries({ count, rows, cols, gridCols, scale })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`writeImageGrid: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (!Number.isInteger(padding) || padding < 0) {
    throw new Error(`writeImageGrid: padding must be a non-negative integer, got ${padding}`);
  }
  const gridRows = Math.ceil(count / gridCols);
  const tileW = cols * scale;
  const tileH = rows * scale;
  const png = new PNG({
    width: gridCols * (tileW + padding) + padding,
    height: gridRows * (tileH + padding) + padding,
  });
  png.data.fill(Uint8Array.of(128, 128, 128, 255)); // opaque grey gaps, the tiles painted over them

  for (let n = 0; n < count; n++) {
    const left = padding + (n % gridCols) * (tileW + padding);
    const top = padding + Math.floor(n / gridCols) * (tileH + padding);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = images[(n * rows + r) * cols + c];
        const grey = Math.round(Math.min(1, Math.max(0, v)) * 255);
        const [red, green, blue] = Number.isNaN(v) ? [255, 0, 0] : [grey, grey, grey];
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const at = ((top + r * scale + dy) * png.width + left + c * scale + dx) * 4;
            png.data[at] = red;
            png.data[at + 1] = green;
            png.data[at + 2] = blue;
          }
        }
      }
    }
  }
  writeFile(path, PNG.sync.write(png));
}

export interface LossSeries {
  name: string;
  x: number[];
  y: number[];
}

export interface LossPlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** The y axis's range; points outside it are clipped at the plot's edge. Default: all the data. */
  yDomain?: [number, number];
}

/**
 * The loss range worth looking at: from the lowest loss to a little above the highest epoch
 * average. The first steps' loss (784·ln 2 ≈ 543 nats at initialisation) falls to about 150 within
 * a few dozen steps; an axis reaching up to it squeezes everything that follows into a flat line.
 */
export function interestingLossRange(stepLosses: number[], epochLosses: number[]): [number, number] {
  const finite = stepLosses.filter(Number.isFinite);
  const averages = epochLosses.filter(Number.isFinite);
  if (finite.length === 0 || averages.length === 0) {
    throw new Error("interestingLossRange: needs at least one finite step loss and one finite epoch loss");
  }
  // Loops, not Math.min(...values): a spread of a million steps' losses overflows the call stack.
  let low = Number.POSITIVE_INFINITY;
  for (const v of finite) low = Math.min(low, v);
  for (const v of averages) low = Math.min(low, v);
  let high = Number.NEGATIVE_INFINITY;
  for (const v of averages) high = Math.max(high, v);
  return [Math.floor(low - 0.05 * (high - low)), Math.ceil(high + 0.25 * (high - low) + 0.05 * high)];
}

/** Most points a line of the loss plot is drawn with: about two per pixel column of the picture. */
export const MAX_LINE_POINTS = 2000;

/**
 * At most `maxPoints` points of a line that look like all of it: the points in order, cut into
 * buckets of consecutive points, and from each bucket its lowest and its highest (in their own
 * order), so every spike stays visible. Fewer points than that are kept as they are. (A run of
 * millions of steps would otherwise hand the chart library millions of points.)
 */
export function downsample(series: LossSeries, maxPoints = MAX_LINE_POINTS): LossSeries {
  const { x, y } = series;
  if (x.length <= maxPoints) return series;
  const buckets = Math.floor(maxPoints / 2);
  const out: LossSeries = { name: series.name, x: [], y: [] };
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * x.length) / buckets);
    const end = Math.floor(((b + 1) * x.length) / buckets);
    let low = start;
    let high = start;
    for (let i = start + 1; i < end; i++) {
      if (y[i] < y[low]) low = i;
      if (y[i] > y[high]) high = i;
    }
    for (const i of low === high ? [low] : [Math.min(low, high), Math.max(low, high)]) {
      out.x.push(x[i]);
      out.y.push(y[i]);
    }
  }
  return out;
}

/**
 * A line chart of one or more series (say train and test loss per epoch) with axes, ticks and a
 * legend; a long series is downsampled to what the picture can show. Points that are not finite
 * (a diverged loss) are left out of the line. Async because Vega renders asynchronously.
 */
export async function writeLossPlot(
  path: string,
  series: LossSeries[],
  options: LossPlotOptions,
): Promise<void> {
  const values = series.flatMap(({ name, x, y }) => {
    if (x.length !== y.length)
      throw new Error(`writeLossPlot: series "${name}" has ${x.length} x but ${y.length} y`);
    const shown = downsample({ name, x, y });
    return shown.x.map((xi, i) => ({ series: name, x: xi, y: shown.y[i] }));
  });
  await writeChart(path, {
    title: options.title,
    width: 560,
    height: 320,
    data: { values },
    mark: { type: "line", point: true, clip: true },
    encoding: {
      // x counts epochs or steps: no ticks at 1.4 epochs.
      x: { field: "x", type: "quantitative", title: options.xLabel, axis: { tickMinStep: 1 } },
      y: {
        field: "y",
        type: "quantitative",
        title: options.yLabel,
        scale: options.yDomain ? { domain: options.yDomain } : { zero: false },
      },
      color: { field: "series", type: "nominal", title: null, sort: null },
    },
  });
}

export interface LatentPlotOptions {
  title: string;
  /** How the points were embedded: names the axes ("t-SNE 1", "UMAP 2"). */
  method: LatentMapMethod;
  /** The axes' titles, when the points are not an embedding (a 2-D latent space's own means). */
  axes?: [string, string];
}

/** The method's name as the axes show it (a function, not a module constant: see fontFiles). */
function methodName(method: LatentMapMethod): string {
  return { tsne: "t-SNE", umap: "UMAP" }[method];
}

/** A scatter of 2-D points (x0, y0, x1, y1, ...) coloured by their digit 0-9, with a legend. */
export async function writeLatentPlot(
  path: string,
  xy: Float32Array,
  labels: Uint8Array,
  options: LatentPlotOptions,
): Promise<void> {
  if (xy.length !== 2 * labels.length) {
    throw new Error(`writeLatentPlot: ${xy.length / 2} points but ${labels.length} labels`);
  }
  const values = Array.from(labels, (digit, i) => ({ x: xy[2 * i], y: xy[2 * i + 1], digit }));
  await writeChart(path, {
    title: options.title,
    width: 480,
    height: 480,
    data: { values },
    mark: { type: "circle", size: 12, opacity: 0.7 },
    encoding: {
      x: {
        field: "x",
        type: "quantitative",
        title: options.axes?.[0] ?? `${methodName(options.method)} 1`,
        scale: { zero: false },
      },
      y: {
        field: "y",
        type: "quantitative",
        title: options.axes?.[1] ?? `${methodName(options.method)} 2`,
        scale: { zero: false },
      },
      color: {
        field: "digit",
        type: "nominal",
        title: "digit",
        // Fix the domain so a digit keeps its colour even when a subset lacks some digits.
        scale: { domain: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], scheme: "category10" },
      },
    },
  });
}

/**
 * A one-dimensional latent space as what it is: each test image's latent mean as a tick on a line,
 * one line per digit, coloured by digit (a map to 2-D would invent a dimension).
 */
export async function writeStripPlot(
  path: string,
  values: Float32Array | Float64Array,
  labels: Uint8Array,
  options: { title: string; xTitle: string },
): Promise<void> {
  if (values.length !== labels.length) {
    throw new Error(`writeStripPlot: ${values.length} values but ${labels.length} labels`);
  }
  await writeChart(path, {
    title: options.title,
    width: 480,
    height: 320,
    data: { values: Array.from(labels, (digit, i) => ({ z: values[i], digit })) },
    // Opaque: ticks overlap only within their digit's own strip, in one colour.
    mark: { type: "tick", opacity: 1 },
    encoding: {
      x: { field: "z", type: "quantitative", title: options.xTitle, scale: { zero: false } },
      y: { field: "digit", type: "nominal", title: "digit", sort: "ascending" },
      color: {
        field: "digit",
        type: "nominal",
        legend: null,
        scale: { domain: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], scheme: "category10" },
      },
    },
  });
}

/** Vega-Lite spec → Vega → SVG → PNG at twice the chart's size, in DejaVu Sans. */
async function writeChart(path: string, spec: TopLevelSpec): Promise<void> {
  const family = "DejaVu Sans";
  const styled = { ...spec, background: "white", config: { font: family } } as TopLevelSpec;
  // A view never attached to a page: it has no renderer, timers or event listeners to release.
  const svg = await new View(parse(compile(styled).spec)).toSVG();
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: 2 },
    font: {
      fontFiles: fontFiles(),
      loadSystemFonts: false,
      defaultFontFamily: family,
      sansSerifFamily: family,
    },
  });
  writeFile(path, resvg.render().asPng());
}

/**
 * The regular and bold DejaVu Sans files of the `dejavu-fonts-ttf` package. Named in a function
 * rather than module constants, so that mutation testing sees which test reads them (a value made
 * at import belongs to no test, and vitest keeps the module it first imported).
 */
function fontFiles(): string[] {
  const dir = join(dirname(createRequire(import.meta.url).resolve("dejavu-fonts-ttf/package.json")), "ttf");
  return ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((name) => join(dir, name));
}

/** Atomically, as every file of a run: a crash or a full disk leaves the previous picture whole. */
function writeFile(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, bytes);
}
