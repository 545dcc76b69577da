/**
 * What the conformance suite (conformance.ts, run on wasm with one thread and with two) does not
 * cover: the VAE's sizes, which take the kernels' long vector and tile loops; that two threads
 * give the same bits as one (each number is computed by the same code whichever thread runs it);
 * and the memory pool.
 *
 * Tolerances: sums and dot products may add in another order than the reference: they must agree
 * within 2(n + 1)·2⁻²³·Σ|terms|; NaN and infinities must match exactly.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend, DType, Storage, TypedArray, UnaryOp } from "../../../src/kernels/backend.ts";
import { CpuBackend } from "../../../src/kernels/cpu/backend.ts";
import type { WasmBackend } from "../../../src/kernels/wasm/backend.ts";
import { createWasmBackend } from "../../../src/kernels/wasm/create.ts";
import { typedArray } from "../../fixtures/tensors.ts";

const RUNS = { numRuns: 60 };
const EPS32 = 2 ** -23;
const cpu = new CpuBackend();
let wasm: WasmBackend;
let threaded: WasmBackend;

beforeAll(async () => {
  wasm = await createWasmBackend({ threads: 1 });
  // Thresholds 0: every matmul and every exp-like op is split between the two threads, however small.
  threaded = await createWasmBackend({ threads: 2, parallelFlops: 0, parallelElements: 0 });
});

afterAll(async () => {
  await threaded?.terminate();
});

const dimArb = fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 13);
const specials = [
  0,
  -0,
  1,
  -1,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e-40,
  -1e-40,
  3e38,
  88.7,
  -88,
  -103,
  1e-7,
];

/** Float32 values: mostly moderate, sometimes huge, tiny, zero, infinite or NaN. */
function valuesArb(size: number, withSpecials = true): fc.Arbitrary<number[]> {
  const value = withSpecials
    ? fc.oneof(
        { weight: 8, arbitrary: fc.double({ min: -12, max: 12, noNaN: true }) },
        { weight: 1, arbitrary: fc.float({ noNaN: false }).map(Math.fround) },
        { weight: 1, arbitrary: fc.constantFrom(...specials) },
      )
    : fc.double({ min: -3, max: 3, noNaN: true });
  return fc.array(value, { minLength: size, maxLength: size });
}

/** Both backends' storages for the same numbers. */
function pair(values: readonly number[], dtype: DType = "float32"): { c: Storage; w: Storage; t: Storage } {
  const data = typedArray(dtype, values);
  return { c: cpu.fromArray(data), w: wasm.fromArray(data), t: threaded.fromArray(data) };
}

function same(actual: TypedArray, expected: TypedArray): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i]) ? !Number.isNaN(actual[i]) : actual[i] !== expected[i]) {
      throw new Error(`element ${i}: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** Within `tolerance(i)` of the reference; NaN and infinities must match exactly. */
function close(actual: TypedArray, expected: TypedArray, tolerance: (i: number) => number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (!(Object.is(a, e) || a === e || (Number.isNaN(a) && Number.isNaN(e)))) {
        throw new Error(`element ${i}: got ${a}, expected ${e}`);
      }
      continue;
    }
    if (!(Math.abs(a - e) <= tolerance(i)))
      throw new Error(`element ${i}: got ${a}, expected ${e} (±${tolerance(i)})`);
  }
}

describe("wasm threads", () => {
  it.each<UnaryOp>([
    "exp",
    "log",
    "sigmoid",
    "softplus",
    "tanh",
  ])("%s split between two threads gives the same bits as one thread", (op) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 41 }).chain((n) => valuesArb(n)),
        (values) => {
          const { w, t } = pair(values);
          same(threaded.readSync(threaded.unary(op, t)), wasm.readSync(wasm.unary(op, w)));
        },
      ),
      RUNS,
    );
  });
});

describe("wasm reductions", () => {
  it("bias gradient and per-row sums at the VAE's sizes", () => {
    const values = Float32Array.from({ length: 128 * 200 }, (_, i) => Math.cos(i));
    for (const axes of [[0], [1], [0, 1]]) {
      const expected = cpu.readSync(cpu.reduce("sum", cpu.fromArray(values), [128, 200], axes));
      close(
        wasm.readSync(wasm.reduce("sum", wasm.fromArray(values), [128, 200], axes)),
        expected,
        () => 1e-3,
      );
    }
  });
});

describe("wasm matmul", () => {
  /** |C − C_ref| ≤ 2(k+1)·ε·(|A|·|B|), from the recursive summation bound in float32. */
  function checkMatmul(
    backend: Backend,
    a: Storage,
    b: Storage,
    m: number,
    k: number,
    n: number,
    ta: boolean,
    tb: boolean,
    av: number[],
    bv: number[],
  ): TypedArray {
    const ac = cpu.fromArray(Float32Array.from(av, Math.abs));
    const bc = cpu.fromArray(Float32Array.from(bv, Math.abs));
    const bound = cpu.readSync(cpu.matmul(ac, bc, { batch: 1, m, k, n, transA: ta, transB: tb }));
    const expected = cpu.readSync(
      cpu.matmul(cpu.fromArray(Float32Array.from(av)), cpu.fromArray(Float32Array.from(bv)), {
        batch: 1,
        m,
        k,
        n,
        transA: ta,
        transB: tb,
      }),
    );
    const actual = backend.readSync(backend.matmul(a, b, { batch: 1, m, k, n, transA: ta, transB: tb }));
    close(actual, expected, (i) => 2 * (k + 1) * EPS32 * bound[i] + 1e-30);
    return actual;
  }

  it("all transpose variants, odd sizes: one thread and two give the same bits", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(dimArb, fc.constantFrom(0, 1, 2, 3, 5, 8, 17), dimArb, fc.boolean(), fc.boolean())
          .chain(([m, k, n, ta, tb]) =>
            fc.tuple(
              fc.constant([m, k, n, ta, tb] as const),
              valuesArb(m * k, false),
              valuesArb(k * n, false),
            ),
          ),
        ([[m, k, n, ta, tb], av, bv]) => {
          const a = pair(av);
          const b = pair(bv);
          const one = checkMatmul(wasm, a.w, b.w, m, k, n, ta, tb, av, bv);
          const two = checkMatmul(threaded, a.t, b.t, m, k, n, ta, tb, av, bv);
          // Each element is the same dot product in the same order whichever thread computes it.
          same(two, one);
        },
      ),
      RUNS,
    );
  });

  it.each([
    [128, 784, 200],
    [200, 128, 784],
    [784, 128, 200],
    [128, 200, 10],
    [33, 65, 47],
  ])("%i×%i·%i in every variant, threaded or not", (m, k, n) => {
    const av = Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37));
    const bv = Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11));
    const a = pair(av);
    const b = pair(bv);
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const one = checkMatmul(wasm, a.w, b.w, m, k, n, ta, tb, av, bv);
        same(checkMatmul(threaded, a.t, b.t, m, k, n, ta, tb, av, bv), one);
      }
    }
  });
});

describe("wasm storages", () => {
  it("dispose returns blocks to the pool, and a repeated workload reuses them", () => {
    const step = () => {
      const made: Storage[] = [];
      for (const size of [100, 128 * 784, 7, 200, 128 * 784]) made.push(wasm.fill(size, 1, "float32"));
      made.push(
        wasm.matmul(made[1], made[4], { batch: 1, m: 128, k: 784, n: 128, transA: false, transB: true }),
      );
      for (const s of made) wasm.dispose(s);
    };
    const before = wasm.memory();
    step();
    const reserved = wasm.poolInfo().reserved;
    for (let i = 0; i < 5; i++) step();
    expect(wasm.poolInfo().reserved).toBe(reserved);
    expect(wasm.memory()).toEqual(before);
  });

  it("explains misuse", () => {
    const s = wasm.fill(3, 0, "float32");
    wasm.dispose(s);
    wasm.dispose(s); // harmless
    expect(() => wasm.readSync(s)).toThrow(/after dispose/);
    expect(() => wasm.readSync(cpu.fill(3, 0, "float32"))).toThrow(/another backend/);
  });

  it("survives the memory growing under existing storages", () => {
    const small = wasm.fromArray(Float32Array.from([1, 2, 3]));
    const big = wasm.fill(20 * 1024 * 1024, 2, "float32"); // 80 MB: past the initial 16 MiB
    same(wasm.readSync(small), Float32Array.from([1, 2, 3]));
    same(wasm.readSync(wasm.unary("neg", small)), Float32Array.from([-1, -2, -3]));
    expect(wasm.readSync(big)[20 * 1024 * 1024 - 1]).toBe(2);
    wasm.dispose(big);
  });

  it("keeps within maxMemory, refusing past it with the limit named; refuses a maxMemory it cannot have", async () => {
    const small = await createWasmBackend({ threads: 1, maxMemory: 32 * 2 ** 20 });
    const kept = small.fill(2 * 2 ** 20, 1, "float32"); // 8 MiB: the memory grows to hold it
    expect(() => small.fill(8 * 2 ** 20, 1, "float32")).toThrow(
      /^wasm backend: out of memory: 33554432 more bytes would need \d+ pages of 64 KiB, past the maximum of 512 \(32 MiB\)/,
    );
    expect(small.readSync(kept)[2 * 2 ** 20 - 1]).toBe(1);
    for (const bad of [2 ** 20, 3 * 2 ** 31, 20 * 2 ** 20 + 1, Number.NaN])
      await expect(createWasmBackend({ threads: 1, maxMemory: bad })).rejects.toThrow(
        `wasm backend: maxMemory must be a whole number of 64 KiB pages from 16777216 (16 MiB) to 2147483648 (2 GiB) bytes, got ${bad}`,
      );
  });
});
