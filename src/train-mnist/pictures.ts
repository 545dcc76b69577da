/**
 * The report's pictures on disk (Node): reconstructions, samples, the latent space and the loss
 * curve, drawn from the values src/vae/run.ts computes. Each picture is drawn on its own: one that
 * fails is reported with its reason and the others are still drawn, so a picture never costs the
 * rest of the report.
 */
import { join } from "node:path";
import type { Generator } from "../autograd/random.ts";
import type { Dataset } from "../vae/dataset.ts";
import type { LatentMapMethod } from "../vae/latent-map.ts";
import { type PictureValues, pictureValues, type Run } from "../vae/run.ts";
import type { EpochResult } from "../vae/train.ts";
import type { LossSeries } from "./report.ts";

export const PICTURE_FILES = ["reconstructions.png", "samples.png", "latent.png", "loss.png"];

export interface PicturesDrawn {
  written: string[];
  /** The pictures that could not be drawn, each with why. */
  failed: { file: string; reason: string }[];
}

export async function writePictures(
  out: string,
  run: Run,
  test: Dataset,
  generator: Generator,
  options: {
    latentMap?: LatentMapMethod;
    /** Awaited before each picture (the CLI stops there on a signal by throwing). */
    between?: (where: string) => Promise<void>;
  } = {},
): Promise<PicturesDrawn> {
  // Loaded here, not at start-up: the plotting libraries take seconds to import, and a run that
  // stops on a bad flag should say so at once.
  const report = await import("./report.ts");
  const { latentMap = "tsne" } = options;
  const { rows, cols } = test;
  // Computed once, for the three pictures that need it; if it fails, they fail with its reason.
  let values: Promise<PictureValues> | undefined;
  const picture = () => {
    values ??= pictureValues(run, test, generator);
    return values;
  };
  const draw: Record<string, () => Promise<void>> = {
    "reconstructions.png": async () => {
      const v = await picture();
      report.writeImageGrid(
        join(out, "reconstructions.png"),
        v.originalsAndReconstructions,
        2 * v.shown,
        rows,
        cols,
        v.shown,
      );
    },
    "samples.png": async () => {
      report.writeImageGrid(join(out, "samples.png"), (await picture()).samples, 64, rows, cols, 8);
    },
    "latent.png": async () =>
      writeLatentSpace(join(out, "latent.png"), run, test, await picture(), generator, latentMap),
    "loss.png": async () => {
      const [steps, averages] = lossCurves(run.history);
      await report.writeLossPlot(join(out, "loss.png"), [steps, averages], {
        title: "Training loss (−ELBO per image)",
        xLabel: "epoch",
        yLabel: "nats per image",
        yDomain: report.interestingLossRange(steps.y, averages.y),
      });
    },
  };
  const drawn: PicturesDrawn = { written: [], failed: [] };
  for (const file of PICTURE_FILES) {
    await options.between?.(`while drawing ${file}`);
    try {
      await draw[file]();
      drawn.written.push(file);
    } catch (e) {
      drawn.failed.push({ file, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  return drawn;
}

/**
 * The latent space as what it is: one dimension as a strip per digit, two as the means
 * themselves, more mapped to the plane by t-SNE or UMAP.
 */
async function writeLatentSpace(
  path: string,
  run: Run,
  test: Dataset,
  values: PictureValues,
  generator: Generator,
  method: LatentMapMethod,
): Promise<void> {
  const { writeLatentPlot, writeStripPlot } = await import("./report.ts");
  const dim = run.config.latentDim;
  const labels = test.labels.subarray(0, test.count);
  if (dim === 1) {
    await writeStripPlot(path, values.means, labels, {
      title: `The latent means of ${test.count} test images`,
      xTitle: "latent mean μ",
    });
    return;
  }
  if (dim === 2) {
    await writeLatentPlot(path, Float32Array.from(values.means), labels, {
      title: `The latent means of ${test.count} test images`,
      method,
      axes: ["latent mean μ₁", "latent mean μ₂"],
    });
    return;
  }
  const { embed2d } = await import("../vae/latent-map.ts");
  const embedding = await embed2d(values.means, test.count, dim, generator, { method });
  await writeLatentPlot(
    path,
    embedding.xy,
    Uint8Array.from(embedding.indices, (i) => test.labels[i]),
    {
      title: `${method === "tsne" ? "t-SNE" : "UMAP"} of the latent means of ${embedding.indices.length} test images`,
      method,
    },
  );
}

/**
 * The loss plot's two lines, from a run's history (what metrics.json lists): every step's loss,
 * step s of epoch e at e − 1 + s/steps, so that an epoch's last step sits on the epoch's own
 * average, at e.
 */
export function lossCurves(history: readonly EpochResult[]): [LossSeries, LossSeries] {
  const steps = history.flatMap((e) => e.stepLosses);
  const stepsPerEpoch = history.length > 0 ? history[0].stepLosses.length : 1;
  return [
    { name: "per step", x: steps.map((_, i) => (i + 1) / stepsPerEpoch), y: steps },
    { name: "epoch average", x: history.map((e) => e.epoch), y: history.map((e) => e.loss) },
  ];
}
