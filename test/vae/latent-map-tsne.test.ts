/**
 * The t-SNE map is druidjs's exact t-SNE run as documented in latent-map.ts: seeded with
 * ⌊u·2³¹⌋ for the generator's next uniform u, for the iterations asked, with the perplexity asked
 * for (30 by default) but never above (n − 1)/3 for n points, the usual bound that keeps it below
 * the number of neighbours a point has, nor below 1.5, where the search for a point's kernel width
 * has no solution. Each embedding equals druidjs's own, made here from those numbers.
 */
import { TSNE } from "@saehrimnir/druidjs";
import { describe, expect, it } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import { embed2d } from "../../src/vae/latent-map.ts";

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
