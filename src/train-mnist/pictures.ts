/**
 * The report's pictures on disk (Node): reconstructions, samples, the latent map and the loss
 * curve, drawn from the values src/vae/run.ts computes.
 */
import { join } from "node:path";
import type { Generator } from "../autograd/random.ts";
import type { Dataset } from "../vae/dataset.ts";
import type { LatentMapMethod } from "../vae/latent-map.ts";
import { pictureValues, type Run } from "../vae/run.ts";
import type { EpochResult } from "../vae/train.ts";
import type { LossSeries } from "./report.ts";

export const PICTURE_FILES = ["reconstructions.png", "samples.png", "latent.png", "loss.png"];

export async function writePictures(
  out: string,
  run: Run,
  test: Dataset,
  generator: Generator,
  options: { latentMap?: LatentMapMethod } = {},
): Promise<void> {
  // Loaded here, not at start-up: the plotting libraries take seconds to import, and a run that
  // stops on a bad flag should say so at once.
  const { interestingLossRange, writeImageGrid, writeLatentPlot, writeLossPlot } = await import(
    "./report.ts"
  );
  const { embed2d } = await import("../vae/latent-map.ts");
  const { latentMap = "tsne" } = options;
  const values = await pictureValues(run, test, generator);
  const { rows, cols } = test;
  writeImageGrid(
    join(out, "reconstructions.png"),
    values.originalsAndReconstructions,
    2 * values.shown,
    rows,
    cols,
    values.shown,
  );
  writeImageGrid(join(out, "samples.png"), values.samples, 64, rows, cols, 8);

  const embedding = await embed2d(values.means, test.count, run.config.latentDim, generator, {
    method: latentMap,
  });
  const labels = Uint8Array.from(embedding.indices, (i) => test.labels[i]);
  await writeLatentPlot(join(out, "latent.png"), embedding.xy, labels, {
    title: `${latentMap === "tsne" ? "t-SNE" : "UMAP"} of the latent means of ${embedding.indices.length} test images`,
    method: latentMap,
  });

  const [steps, averages] = lossCurves(run.history);
  await writeLossPlot(join(out, "loss.png"), [steps, averages], {
    title: "Training loss (−ELBO per image)",
    xLabel: "epoch",
    yLabel: "nats per image",
    yDomain: interestingLossRange(steps.y, averages.y),
  });
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
