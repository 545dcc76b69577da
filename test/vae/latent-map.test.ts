/**
 * embed2d: the same embedding for the same seed, well-separated clusters kept apart, a seeded
 * subset of maxPoints points. Its use of the generator and its limits: t-SNE takes exactly one
 * number from it (druidjs's seed), UMAP many; different generators give different maps; too few
 * points or values are refused by name; a handful of points still embeds. And the t-SNE map is
 * druidjs's exact t-SNE run as documented in latent-map.ts (seed ⌊u·2³¹⌋, the perplexity asked for
 * but within [1.5, (n − 1)/3]): each embedding equals druidjs's own, made here from those numbers.
 */
import { TSNE } from "@saehrimnir/druidjs";
import { describe, expect, it } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import { embed2d, latentMapMethods } from "../../src/vae/latent-map.ts";

describe.each(latentMapMethods)("embed2d with %s", (method) => {
  // Three Gaussian blobs in 8-D, centres 10 apart along different axes, 40 points each.
  const dim = 8;
  const perBlob = 40;
  const count = 3 * perBlob;
  const points = new Float32Array(count * dim);
  const blobOf = (i: number) => Math.floor(i / perBlob);
  const noise = new Generator(42);
  for (let i = 0; i < count; i++) {
    for (let d = 0; d < dim; d++) points[i * dim + d] = (d === blobOf(i) ? 10 : 0) + noise.normal();
  }
  const options = { method, nEpochs: 100, iterations: 300 };

  it("gives the same embedding for the same seed", async () => {
    const a = await embed2d(points, count, dim, new Generator(7), options);
    const b = await embed2d(points, count, dim, new Generator(7), options);
    expect(a.xy.length).toBe(2 * count);
    expect(Array.from(a.indices)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(Array.from(a.xy)).toEqual(Array.from(b.xy));
    expect(a.xy.every(Number.isFinite)).toBe(true);
  });

  it("keeps well-separated clusters separated: every point is nearest its own blob's centre", async () => {
    const { xy } = await embed2d(points, count, dim, new Generator(3), options);
    const centres = [0, 1, 2].map((blob) => {
      let x = 0;
      let y = 0;
      for (let i = blob * perBlob; i < (blob + 1) * perBlob; i++) {
        x += xy[2 * i] / perBlob;
        y += xy[2 * i + 1] / perBlob;
      }
      return [x, y];
    });
    for (let i = 0; i < count; i++) {
      const distances = centres.map(([x, y]) => Math.hypot(xy[2 * i] - x, xy[2 * i + 1] - y));
      expect(distances.indexOf(Math.min(...distances))).toBe(blobOf(i));
    }
  });

  it("embeds a seeded subset of maxPoints points, reporting which", async () => {
    const a = await embed2d(points, count, dim, new Generator(9), { ...options, maxPoints: 30 });
    const b = await embed2d(points, count, dim, new Generator(9), { ...options, maxPoints: 30 });
    expect(a.xy.length).toBe(60);
    expect(a.indices.length).toBe(30);
    expect(new Set(a.indices).size).toBe(30);
    expect(Array.from(a.indices)).toEqual(Array.from(a.indices).sort((p, q) => p - q));
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(a.xy)).toEqual(Array.from(b.xy));
  });
});

describe("embed2d", () => {
  it("names an unknown method", async () => {
    const points = new Float32Array(20);
    await expect(embed2d(points, 10, 2, new Generator(1), { method: "pca" as never })).rejects.toThrow(
      /unknown method "pca": choose one of tsne, umap/,
    );
  });

  it("t-SNE takes one number from the generator, and no subset is drawn when every point fits", async () => {
    const points = blobs(10);
    for (const maxPoints of [30, 1000]) {
      const generator = new Generator(7);
      await embed2d(points, 30, 4, generator, { method: "tsne", iterations: 50, maxPoints });
      expect(drawsSince(7, generator), `maxPoints ${maxPoints}`).toBe(1);
    }
    const generator = new Generator(7);
    await embed2d(points, 30, 4, generator, { method: "umap", nEpochs: 20 });
    expect(drawsSince(7, generator)).toBeGreaterThan(1);
  });

  it("different generators give different t-SNE maps", async () => {
    const points = blobs(10);
    const map = async (seed: number) =>
      Array.from((await embed2d(points, 30, 4, new Generator(seed), { iterations: 50 })).xy);
    expect(await map(1)).not.toEqual(await map(2));
  });

  it.each(latentMapMethods)("%s embeds 12 points, keeping three blobs of four apart", async (method) => {
    const { xy } = await embed2d(blobs(4), 12, 4, new Generator(3), { method });
    expect(xy.every(Number.isFinite)).toBe(true);
    const centre = (blob: number) =>
      [0, 1].map((axis) => [0, 1, 2, 3].reduce((s, j) => s + xy[2 * (4 * blob + j) + axis], 0) / 4);
    const centres = [0, 1, 2].map(centre);
    for (let i = 0; i < 12; i++) {
      const distances = centres.map(([x, y]) => Math.hypot(xy[2 * i] - x, xy[2 * i + 1] - y));
      expect(distances.indexOf(Math.min(...distances)), `point ${i}`).toBe(Math.floor(i / 4));
    }
  });

  it("refuses too few values, and fewer than 3 points", async () => {
    await expect(embed2d(new Float32Array(11), 3, 4, new Generator(1))).rejects.toThrow(
      "embed2d: 3 points of dimension 4 need 12 values, got 11",
    );
    await expect(embed2d(new Float32Array(8), 2, 4, new Generator(1))).rejects.toThrow(
      "embed2d: needs at least 3 points, got count 2 and maxPoints 1000",
    );
    await expect(embed2d(blobs(4), 12, 4, new Generator(1), { maxPoints: 2 })).rejects.toThrow(
      "embed2d: needs at least 3 points, got count 12 and maxPoints 2",
    );
  });

  it.each(latentMapMethods)("%s maps 3, 4 and 5 points to finite coordinates", async (method) => {
    // t-SNE's perplexity, cut to (n − 1)/3 for few points, was 1 or less for 3 and 4: all NaN.
    for (const count of [3, 4, 5]) {
      const points = Float32Array.from({ length: count * 4 }, (_, k) => Math.sin(k * 1.7) * 5);
      const { xy } = await embed2d(points, count, 4, new Generator(1), { method });
      expect(Array.from(xy).every(Number.isFinite), `${count} points: ${Array.from(xy)}`).toBe(true);
    }
  });
});

/** `perBlob` points around each of three centres 10 apart, in 4-D. */
function blobs(perBlob: number): Float32Array {
  const noise = new Generator(42);
  return Float32Array.from({ length: 3 * perBlob * 4 }, (_, k) => {
    const [i, d] = [Math.floor(k / 4), k % 4];
    return (d === Math.floor(i / perBlob) ? 10 : 0) + 0.5 * noise.normal();
  });
}

/** How many numbers `generator` gave since it was made from `seed`. */
function drawsSince(seed: number, generator: Generator): number {
  const reference = new Generator(seed);
  const next = generator.uniform();
  for (let n = 0; n < 100_000; n++) if (reference.uniform() === next) return n;
  throw new Error("the generator is not the seed's stream");
}

const dim = 3;

const pointsOf = (count: number) =>
  Float32Array.from({ length: count * dim }, (_, k) => Math.sin(k * 1.3) * 4 + (k % 5));

/** druidjs's t-SNE of the points with the seed drawn from `seed`'s generator, as a flat array. */
function druidTsne(
  points: Float32Array,
  count: number,
  seed: number,
  perplexity: number,
  iterations: number,
) {
  const rows = Array.from({ length: count }, (_, i) =>
    Float64Array.from(points.subarray(i * dim, (i + 1) * dim)),
  );
  const druidSeed = Math.floor(new Generator(seed).uniform() * 2 ** 31);
  const fit = new TSNE(rows, { d: 2, perplexity, seed: druidSeed });
  return Float32Array.from(
    Array.from(fit.transform(iterations) as ArrayLike<number>[]).flatMap((p) => [p[0], p[1]]),
  );
}

describe("embed2d's t-SNE", () => {
  it.each([
    // [points, perplexity asked (undefined: the default), the perplexity used]
    [30, undefined, 29 / 3],
    [100, undefined, 30],
    [30, 4, 4],
    [4, undefined, 1.5],
    [6, undefined, 5 / 3],
  ] as const)("of %i points, perplexity %s asked, runs with perplexity %s", async (count, perplexity, used) => {
    const points = pointsOf(count);
    const got = await embed2d(points, count, dim, new Generator(8), { iterations: 30, perplexity });
    expect(Array.from(got.xy)).toEqual(Array.from(druidTsne(points, count, 8, used, 30)));
  });
});
