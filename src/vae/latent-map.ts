/**
 * A 2-D map of the latent space: the test set's latent means embedded in the plane, to see whether
 * the VAE sorts digits into regions. t-SNE by default, as the reference tutorial draws it
 * (druidjs's exact t-SNE), or UMAP (umap-js). Both are plain JavaScript without Node built-ins, so
 * the CLI's report and the lab in a page draw the same map. Each library is loaded when its method
 * is asked for, not before.
 */
import type { Generator } from "../autograd/random.ts";

export const latentMapMethods = ["tsne", "umap"] as const;
export type LatentMapMethod = (typeof latentMapMethods)[number];

export interface EmbedOptions {
  /** "tsne" (default) or "umap". */
  method?: LatentMapMethod;
  /**
   * Embed at most this many points, a seeded random subset (default 1000): 100 per digit already
   * show the clusters. Exact t-SNE costs O(n²) per iteration: on this project's 2-core machines
   * 1000 10-D points take about 3 s for 300 iterations; UMAP about 1.6 s at 200 epochs.
   */
  maxPoints?: number;
  /** t-SNE's perplexity, the effective number of neighbours (default 30, as scikit-learn). */
  perplexity?: number;
  /** t-SNE's gradient-descent iterations (default 300). */
  iterations?: number;
  /** UMAP's neighbourhood size (default 15, as in UMAP itself). */
  nNeighbors?: number;
  /** UMAP's optimisation epochs (default 200, what UMAP uses for large datasets). */
  nEpochs?: number;
}

export interface Embedding {
  /** Two coordinates per embedded point: x0, y0, x1, y1, ... */
  xy: Float32Array;
  /** Which of the input points were embedded, ascending; pick their labels with
   * `Uint8Array.from(indices, (i) => labels[i])`. */
  indices: Int32Array;
  method: LatentMapMethod;
}

/**
 * Map `count` points of dimension `dim` (row-major in `points`) to 2-D. Every random choice (the
 * subset, the method's initial layout and sampling) comes from `generator`, so the same seed gives
 * the same map.
 */
export async function embed2d(
  points: Float32Array | Float64Array,
  count: number,
  dim: number,
  generator: Generator,
  options: EmbedOptions = {},
): Promise<Embedding> {
  if (points.length < count * dim) {
    throw new Error(
      `embed2d: ${count} points of dimension ${dim} need ${count * dim} values, got ${points.length}`,
    );
  }
  const { method = "tsne", maxPoints = 1000 } = options;
  if (!(latentMapMethods as readonly string[]).includes(method)) {
    throw new Error(`embed2d: unknown method "${method}": choose one of ${latentMapMethods.join(", ")}`);
  }
  if (Math.min(count, maxPoints) < 3) {
    throw new Error(`embed2d: needs at least 3 points, got count ${count} and maxPoints ${maxPoints}`);
  }
  const indices =
    count <= maxPoints
      ? Int32Array.from({ length: count }, (_, i) => i)
      : generator
          .permutation(count)
          .slice(0, maxPoints)
          .sort((a, b) => a - b);
  const rows = Array.from(indices, (i) => Float64Array.from(points.subarray(i * dim, (i + 1) * dim)));
  const embedded = await (method === "tsne"
    ? tsne(rows, generator, options)
    : umap(rows, generator, options));
  const xy = new Float32Array(2 * rows.length);
  embedded.forEach((point, i) => {
    xy[2 * i] = point[0];
    xy[2 * i + 1] = point[1];
  });
  return { xy, indices, method };
}

async function tsne(
  rows: Float64Array[],
  generator: Generator,
  options: EmbedOptions,
): Promise<ArrayLike<number>[]> {
  const { perplexity = 30, iterations = 300 } = options;
  const { TSNE } = await import("@saehrimnir/druidjs");
  // druidjs seeds its own generator from an integer; draw that integer from ours.
  const seed = Math.floor(generator.uniform() * 2 ** 31);
  // Perplexity must stay below the number of neighbours a point has, and above 1: at 1 or below
  // the search for each point's kernel width has no solution and every coordinate is NaN.
  const fewNeighbours = Math.max(1.5, (rows.length - 1) / 3);
  const fit = new TSNE(rows, { d: 2, perplexity: Math.min(perplexity, fewNeighbours), seed });
  return fit.transform(iterations);
}

async function umap(
  rows: Float64Array[],
  generator: Generator,
  options: EmbedOptions,
): Promise<ArrayLike<number>[]> {
  const { nNeighbors = 15, nEpochs = 200 } = options;
  const { UMAP } = await import("umap-js");
  const fit = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(nNeighbors, rows.length - 1), // a point cannot have more neighbours than others
    nEpochs,
    random: () => generator.uniform(),
  });
  return fit.fit(rows.map((r) => Array.from(r)));
}
