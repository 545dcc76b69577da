/**
 * The seeded generator: reproducible streams, resumable state, and the right distributions; its
 * streams bit for bit against a BigInt reference of xoshiro128** seeded by splitmix32; the states it
 * accepts; manualSeed.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randn } from "../../src/autograd/create.ts";
import { checkGeneratorState, Generator, globalGenerator, manualSeed } from "../../src/autograd/random.ts";

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

const MASK = 0xffffffffn;

const u32 = (x: bigint) => x & MASK;

const rotl = (x: bigint, k: bigint) => u32((x << k) | (x >> (32n - k)));

const mul32 = (a: bigint, b: bigint) => u32(a * b);

/** splitmix32 then xoshiro128**, as the papers define them, in BigInt. */
function referenceStream(seed: number) {
  let x = u32(BigInt(seed));
  const splitmix32 = () => {
    x = u32(x + 0x9e3779b9n);
    let z = x;
    z = mul32(z ^ (z >> 16n), 0x85ebca6bn);
    z = mul32(z ^ (z >> 13n), 0xc2b2ae35n);
    return z ^ (z >> 16n);
  };
  const s = [splitmix32(), splitmix32(), splitmix32(), splitmix32()];
  const next = (): number => {
    const result = mul32(rotl(mul32(s[1], 5n), 7n), 9n);
    const t = u32(s[1] << 9n);
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11n);
    return Number(result);
  };
  const uniform = () => {
    const hi = BigInt(next()) >> 5n;
    const lo = BigInt(next()) >> 6n;
    return Number((hi << 26n) | lo) / 2 ** 53;
  };
  return { next, uniform, state: () => s.map(Number) };
}

const seedArb = fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 });

describe("Generator against a BigInt reference", () => {
  it("nextUint32 is splitmix32-seeded xoshiro128**, for any integer seed", () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const g = new Generator(seed);
        const ref = referenceStream(seed);
        for (let i = 0; i < 20; i++) expect(g.nextUint32()).toBe(ref.next());
      }),
      { numRuns: 50 },
    );
  });

  it("uniform() puts 27 high bits of one draw above 26 of the next, over 2^53", () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const g = new Generator(seed);
        const ref = referenceStream(seed);
        for (let i = 0; i < 10; i++) expect(g.uniform()).toBe(ref.uniform());
      }),
      { numRuns: 50 },
    );
  });

  it("normal() gives Box–Muller's cosine, then the sine of the same pair", () => {
    const g = new Generator(77);
    const ref = referenceStream(77);
    for (let pair = 0; pair < 10; pair++) {
      const u1 = ref.uniform();
      const u2 = ref.uniform();
      const r = Math.sqrt(-2 * Math.log(u1));
      expect(g.normal()).toBeCloseTo(r * Math.cos(2 * Math.PI * u2), 14);
      expect(g.normal()).toBeCloseTo(r * Math.sin(2 * Math.PI * u2), 14);
    }
    // int and permutation read the same uniforms.
    const h = new Generator(5);
    const href = referenceStream(5);
    for (let i = 0; i < 20; i++) expect(h.int(7)).toBe(Math.floor(href.uniform() * 7));
  });

  it("getState gives the reference's words as unsigned integers, and the pending normal", () => {
    const g = new Generator(123);
    const ref = referenceStream(123);
    for (let i = 0; i < 37; i++) {
      g.nextUint32();
      ref.next();
    }
    const state = g.getState();
    expect(state.s).toEqual(ref.state());
    expect(state.spareNormal).toBeNull();
    g.normal();
    expect(g.getState().spareNormal).toEqual(expect.any(Number));
    // Words of 2^31 and above (negative as int32) survive a round trip through the checker.
    fc.assert(
      fc.property(seedArb, (seed) => {
        const h = new Generator(seed);
        for (let i = 0; i < 5; i++) h.nextUint32();
        const words = h.getState().s;
        for (const w of words) expect(w >= 0 && w <= 0xffffffff && Number.isInteger(w)).toBe(true);
        expect(new Generator(0).setState(h.getState()).nextUint32()).toBe(h.nextUint32());
      }),
      { numRuns: 30 },
    );
  });
});

describe("checkGeneratorState", () => {
  const good = new Generator(1).getState();
  const refused: [string, unknown, RegExp][] = [
    ["null", null, /must be an object \{ s, spareNormal \}/],
    ["a number", 5, /must be an object/],
    ["s missing", { spareNormal: null }, /s must be four unsigned 32-bit integers/],
    ["three words", { s: [1, 2, 3], spareNormal: null }, /s must be four unsigned 32-bit integers/],
    ["five words", { s: [1, 2, 3, 4, 5], spareNormal: null }, /s must be four/],
    ["a negative word", { s: [1, -1, 3, 4], spareNormal: null }, /s must be four/],
    ["a word of 2^32", { s: [1, 2 ** 32, 3, 4], spareNormal: null }, /s must be four/],
    ["a fractional word", { s: [1, 2.5, 3, 4], spareNormal: null }, /s must be four/],
    ["a string word", { s: [1, "2", 3, 4], spareNormal: null }, /s must be four/],
    ["all zeros", { s: [0, 0, 0, 0], spareNormal: null }, /s is all zeros/],
    [
      "a NaN spare",
      { s: [1, 2, 3, 4], spareNormal: Number.NaN },
      /spareNormal must be null or a finite number/,
    ],
    ["an infinite spare", { s: [1, 2, 3, 4], spareNormal: Number.POSITIVE_INFINITY }, /spareNormal must/],
    ["a string spare", { s: [1, 2, 3, 4], spareNormal: "0.5" }, /spareNormal must/],
    ["no spare", { s: [1, 2, 3, 4] }, /spareNormal must/],
  ];

  it.each(refused)("refuses %s, quoting the state", (_, state, message) => {
    expect(() => checkGeneratorState(state)).toThrow(message);
    expect(() => checkGeneratorState(state)).toThrow(`generator state ${JSON.stringify(state)}: `);
    expect(() => new Generator(0).setState(state as never)).toThrow(message);
  });

  it("accepts the extremes a state can hold: words 0 and 2^32 − 1 with one non-zero, a spare up to Box–Muller's largest", () => {
    for (const state of [
      good,
      { s: [0xffffffff, 0, 0, 0], spareNormal: null },
      { s: [0, 0, 0, 1], spareNormal: -0 },
      { s: [5, 6, 7, 8], spareNormal: -Math.sqrt(-2 * Math.log(2 ** -53)) },
    ]) {
      expect(() => checkGeneratorState(state)).not.toThrow();
    }
    // A restored spare is what the next normal() returns, before any new pair is drawn.
    const g = new Generator(0).setState({ s: [5, 6, 7, 8], spareNormal: 0.25 });
    expect(g.normal()).toBe(0.25);
    expect(g.getState().spareNormal).toBeNull();
  });
});

describe("manualSeed", () => {
  it("reseeds the global generator that rand and randn draw from", () => {
    manualSeed(31);
    const drawn = Array.from(randn([5], { dtype: "float64" }).dataSync());
    const g = new Generator(31);
    expect(drawn).toEqual(Array.from({ length: 5 }, () => g.normal()));
    expect(globalGenerator.getState()).toEqual(g.getState());
    manualSeed(0);
  });
});
