/** The seeded generator: reproducible streams, resumable state, and the right distributions. */
import { describe, expect, it } from "vitest";
import { rand, randn } from "../../src/autograd/create.ts";
import { Generator } from "../../src/autograd/random.ts";

function draw(g: Generator, n: number, f: (g: Generator) => number): number[] {
  return Array.from({ length: n }, () => f(g));
}

describe("Generator", () => {
  it("the same seed gives the same stream; another seed gives another", () => {
    const next = (g: Generator) => g.nextUint32();
    expect(draw(new Generator(42), 100, next)).toEqual(draw(new Generator(42), 100, next));
    expect(draw(new Generator(42), 100, next)).not.toEqual(draw(new Generator(43), 100, next));
    // manualSeed restarts the stream, also in the middle of a normal pair.
    const g = new Generator(42);
    const first = draw(g, 5, (h) => h.normal());
    g.manualSeed(42);
    expect(draw(g, 5, (h) => h.normal())).toEqual(first);
  });

  it("getState/setState continues the stream, also between the two normals of a pair", () => {
    const g = new Generator(3);
    g.normal(); // leaves the second normal of the pair waiting
    const state = g.getState();
    const expected = [g.normal(), g.uniform(), g.normal(), g.nextUint32()];
    g.uniform(); // move on, then rewind
    g.setState(state);
    expect([g.normal(), g.uniform(), g.normal(), g.nextUint32()]).toEqual(expected);
    // Restoring into a fresh generator works too.
    const h = new Generator(999).setState(state);
    expect([h.normal(), h.uniform(), h.normal(), h.nextUint32()]).toEqual(expected);
  });

  it("the saved state does not change as the generator moves on", () => {
    const g = new Generator(5);
    const state = g.getState();
    const copy = JSON.parse(JSON.stringify(state));
    g.nextUint32();
    expect(state).toEqual(copy);
  });

  it("uniform() lies in [0, 1) with mean 1/2 and variance 1/12", () => {
    const n = 100_000;
    const u = draw(new Generator(11), n, (g) => g.uniform());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const mean = u.reduce((s, v) => s + v, 0) / n;
    const variance = u.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
    // Standard errors: of the mean sqrt(1/12 / n) ≈ 0.0009; of the sample variance of a uniform,
    // sqrt((μ₄ − σ⁴)/n) with μ₄ = 1/80, σ⁴ = 1/144, ≈ 0.00024. Allow 5 of each.
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / n));
  });

  it("normal() has mean ≈ 0 and variance ≈ 1 over 100,000 samples", () => {
    const n = 100_000;
    const z = draw(new Generator(1234), n, (g) => g.normal());
    const mean = z.reduce((s, v) => s + v, 0) / n;
    const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
    // Standard errors for a standard normal: 1/√n for the mean, √(2/(n−1)) for the sample variance.
    // Five of them: a correct generator fails this with probability below 1e-6.
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / (n - 1)));
    // The tails are there too: P(|z| > 3) ≈ 0.0027, so about 270 of them (SE ≈ 16).
    const beyond3 = z.filter((v) => Math.abs(v) > 3).length;
    expect(Math.abs(beyond3 - n * 0.0027)).toBeLessThan(5 * Math.sqrt(n * 0.0027));
  });

  it("normal() draws again when uniform() gives exactly 0, whose log would make it infinite", () => {
    // xoshiro128** outputs 0 when s1 = 0, and again next when s0 = s2: so uniform() is 0 here.
    const state = { s: [7, 0, 7, 9] as [number, number, number, number], spareNormal: null };
    expect(new Generator().setState(state).uniform()).toBe(0);
    const g = new Generator().setState(state);
    const z = g.normal();
    expect(Number.isFinite(z)).toBe(true);
    // It is the Box–Muller normal of the two uniforms after the 0.
    const u = new Generator().setState(state);
    u.uniform();
    const [u1, u2] = [u.uniform(), u.uniform()];
    expect(z).toBe(Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
  });

  it("setState refuses a pending normal Box–Muller cannot give (a damaged 1e308 diverged the first step)", () => {
    const largest = Math.sqrt(-2 * Math.log(2 ** -53));
    const s: [number, number, number, number] = [1, 2, 3, 4];
    for (const spareNormal of [1e308, -9, largest * (1 + 1e-15)]) {
      expect(() => new Generator().setState({ s, spareNormal }), String(spareNormal)).toThrow(
        /spareNormal is beyond the ±8\.572 that Box–Muller can give/,
      );
    }
    for (const spareNormal of [largest, -largest, 0, -8.5]) {
      expect(new Generator().setState({ s, spareNormal }).normal()).toBe(spareNormal);
    }
  });

  it("permutation(n) holds each of 0..n-1 exactly once, and shuffles", () => {
    const g = new Generator(8);
    for (const n of [0, 1, 2, 7, 100]) {
      const p = g.permutation(n);
      expect(p).toBeInstanceOf(Int32Array);
      expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    const p = Array.from(g.permutation(100));
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("permutation(3) draws all 6 orders equally often (Fisher–Yates, not Sattolo's cycles)", () => {
    const g = new Generator(21);
    const counts = new Map<string, number>();
    const draws = 6000;
    for (let i = 0; i < draws; i++) {
      const key = Array.from(g.permutation(3)).join("");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(["012", "021", "102", "120", "201", "210"]);
    // Each order about 1000 times; binomial standard error √(6000·⅙·⅚) ≈ 29, allow 5 of them.
    for (const c of counts.values())
      expect(Math.abs(c - draws / 6)).toBeLessThan(5 * Math.sqrt(draws * (1 / 6) * (5 / 6)));
  });

  it("int(n) covers 0..n-1 and nothing else", () => {
    const counts = new Array<number>(6).fill(0);
    const g = new Generator(2);
    for (let i = 0; i < 6000; i++) counts[g.int(6)]++;
    expect(counts.length).toBe(6);
    // Each face about 1000 times (SE ≈ 29).
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(5 * Math.sqrt(6000 * (1 / 6) * (5 / 6)));
  });

  it("rejects a non-integer seed", () => {
    expect(() => new Generator(1.5)).toThrow(/manualSeed: seed must be an integer, got 1.5/);
  });
});

describe("rand and randn", () => {
  it("draw reproducibly from the generator they are given, in the requested dtype", () => {
    const a = randn([3, 4], { generator: new Generator(9), dtype: "float64", mean: 2, std: 0.5 });
    const b = randn([3, 4], { generator: new Generator(9), dtype: "float64", mean: 2, std: 0.5 });
    expect(a.dtype).toBe("float64");
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const g = new Generator(9);
    expect(Array.from(a.dataSync())).toEqual(draw(g, 12, (h) => 2 + 0.5 * h.normal()));
    const u = rand([1000], { generator: new Generator(4), low: -3, high: -1 }).dataSync();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-3);
    expect(Math.max(...u)).toBeLessThan(-1);
  });
});
