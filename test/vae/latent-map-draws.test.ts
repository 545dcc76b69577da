/**
 * embed2d's use of the generator and its limits: t-SNE takes exactly one number from it (druidjs's
 * seed), UMAP many; a subset is drawn only when there are more points than maxPoints; different
 * generators give different maps; too few points or values are refused by name; and a handful of
 * points still embeds, the neighbourhood sizes cut down to what the points allow.
 */
import { describe, expect, it } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import { embed2d, latentMapMethods } from "../../src/vae/latent-map.ts";

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

describe("embed2d", () => {
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
