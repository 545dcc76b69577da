/**
 * The library's one seeded random generator, so that a run is reproducible end to end:
 * weight initialisation, the VAE's noise and the data shuffling all draw from `globalGenerator`
 * unless given a generator of their own.
 *
 * xoshiro128** (Blackman & Vigna) uses only 32-bit integer operations, which JavaScript does
 * exactly with Math.imul and `>>> 0`; its state is seeded through splitmix32 so that nearby seeds
 * give unrelated streams.
 */
export class Generator {
  // The four words are kept as signed 32-bit integers (`| 0`), the type the bit operations give:
  // V8 then keeps them unboxed, and a draw is some 3× faster than when unsigned values (past
  // 2³¹, stored as doubles) and signed ones alternate in the same fields.
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** Box–Muller makes normals in pairs; the second waits here for the next call. */
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Restart the stream: the same seed gives the same numbers on every machine. */
  manualSeed(seed: number): this {
    if (!Number.isInteger(seed))
      throw new Error(`Generator.manualSeed: seed must be an integer, got ${seed}`);
    let x = seed >>> 0;
    const splitmix32 = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix32() | 0;
    this.s1 = splitmix32() | 0;
    this.s2 = splitmix32() | 0;
    this.s3 = splitmix32() | 0;
    this.spareNormal = null;
    return this;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits, so float64 users get a full-precision value. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal by the Box–Muller transform: sqrt(-2 ln u1) · (cos, sin)(2π u2). */
  normal(): number {
    if (this.spareNormal !== null) {
      const spare = this.spareNormal;
      this.spareNormal = null;
      return spare;
    }
    let u1 = this.uniform();
    while (u1 === 0) u1 = this.uniform(); // ln 0 would be -Infinity
    const u2 = this.uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1)
      throw new Error(`Generator.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** A random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n > 2 ** 31)
      throw new Error(`Generator.permutation: n must be a whole number from 0 to 2³¹, got ${n}`);
    const p = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = p[i];
      p[i] = p[j];
      p[j] = tmp;
    }
    return p;
  }

  /**
   * The whole state, for checkpoints: the four words of xoshiro (as unsigned integers) and the
   * normal that Box–Muller keeps for the next call, so that restoring it continues the same stream
   * even between the two normals of a pair.
   */
  getState(): GeneratorState {
    return {
      s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0],
      spareNormal: this.spareNormal,
    };
  }

  /** Continue from a saved state; throws, saying what is wrong, on one that `getState` cannot give. */
  setState(state: GeneratorState): this {
    checkGeneratorState(state);
    [this.s0, this.s1, this.s2, this.s3] = state.s.map((word) => word | 0);
    this.spareNormal = state.spareNormal;
    return this;
  }
}

export interface GeneratorState {
  s: [number, number, number, number];
  spareNormal: number | null;
}

/**
 * Throw unless `state` is one `getState` can give: four 32-bit unsigned integers, not all zero
 * (xoshiro's one fixed point: it would return 0 forever and the normal sampler would never end),
 * and a pending normal that is null or a number Box–Muller can give (a damaged 1e308 would make
 * the first step diverge).
 */
export function checkGeneratorState(state: unknown): asserts state is GeneratorState {
  const fail = (what: string): never => {
    throw new Error(`generator state ${JSON.stringify(state)}: ${what}`);
  };
  if (typeof state !== "object" || state === null) return fail("must be an object { s, spareNormal }");
  const { s, spareNormal } = state as Record<string, unknown>;
  if (
    !Array.isArray(s) ||
    s.length !== 4 ||
    !s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)
  ) {
    fail("s must be four unsigned 32-bit integers");
  }
  if ((s as number[]).every((w) => w === 0)) fail("s is all zeros, which xoshiro128** never leaves");
  if (spareNormal !== null && !Number.isFinite(spareNormal))
    fail("spareNormal must be null or a finite number");
  if (spareNormal !== null && Math.abs(spareNormal as number) > LARGEST_NORMAL)
    fail(`spareNormal is beyond the ±${LARGEST_NORMAL.toFixed(3)} that Box–Muller can give`);
}

/** The largest |normal| `normal()` can return: its radius √(−2 ln u₁) at the smallest u₁, 2⁻⁵³. */
const LARGEST_NORMAL = Math.sqrt(-2 * Math.log(2 ** -53));

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The generator every random function uses by default. */
export const globalGenerator = new Generator(0);

/** Seed the library's global generator (like torch.manual_seed). */
export function manualSeed(seed: number): void {
  globalGenerator.manualSeed(seed);
}
