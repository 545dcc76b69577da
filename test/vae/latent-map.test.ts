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
});
