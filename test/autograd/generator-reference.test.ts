/**
 * The generator against a second implementation written here with BigInt arithmetic (not the
 * library's Math.imul and `>>> 0`), from the published definitions: splitmix32 seeding, xoshiro128**
 * (Blackman & Vigna), 53-bit uniforms from two draws, and Box–Muller pairs (cos first, sin kept).
 * Any change to a shift, a rotation, a constant or the order of the state updates changes the stream.
 * Then the state a checkpoint saves: unsigned words, and every malformed state refused by name.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randn } from "../../src/autograd/create.ts";
import { checkGeneratorState, Generator, globalGenerator, manualSeed } from "../../src/autograd/random.ts";

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
