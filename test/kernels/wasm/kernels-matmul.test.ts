/**
 * The wasm matmul's zero skipping (kernels-matmul.ts, sparsity.ts): with the zeros of either
 * operand skipped, in every transpose variant, on one thread and two, the product must be bit for
 * bit the dense product (skipping only leaves out terms 0·x = ±0), and within the float32 bound of
 * the cpu reference; a non-finite number in the other operand must still give the reference's NaN.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CpuBackend } from "../../../src/kernels/cpu/backend.ts";
import type { WasmBackend } from "../../../src/kernels/wasm/backend.ts";
import { createWasmBackend } from "../../../src/kernels/wasm/create.ts";
import { chooseSkip, sampledZeroShare, ZERO_SAMPLES } from "../../../src/kernels/wasm/sparsity.ts";

const cpu = new CpuBackend();
let dense: WasmBackend;
let sparse: WasmBackend;
let sparseThreaded: WasmBackend;

beforeAll(async () => {
  dense = await createWasmBackend({ threads: 1, sparseZeros: 2 });
  sparse = await createWasmBackend({ threads: 1, sparseZeros: 0 });
  sparseThreaded = await createWasmBackend({ threads: 2, sparseZeros: 0, parallelFlops: 0 });
});

afterAll(async () => {
  await sparseThreaded?.terminate();
});

function product(
  backend: CpuBackend | WasmBackend,
  av: Float32Array,
  bv: Float32Array,
  shape: [number, number, number, boolean, boolean],
): Float32Array {
  const [m, k, n, ta, tb] = shape;
  return backend.readSync(
    backend.matmul(backend.fromArray(av), backend.fromArray(bv), {
      batch: 1,
      m,
      k,
      n,
      transA: ta,
      transB: tb,
    }),
  ) as Float32Array;
}

function sameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i]))
      throw new Error(`${what}: element ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

/**
 * Values where whole runs are zero, as in an image batch: each number is zero with probability
 * `zeros`, and runs of `run` numbers share that draw, so whole panel steps come out zero.
 */
const sparseValues = (size: number) =>
  fc
    .tuple(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom(1, 4, 8, 16),
      fc.array(
        fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: -3, max: 3, noNaN: true })),
        {
          minLength: size,
          maxLength: size,
        },
      ),
    )
    .map(([zeros, run, draws]) =>
      Float32Array.from(draws, ([, v], i) => (draws[i - (i % run)][0] < zeros ? 0 : v)),
    );

const dims = fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 17);

describe("wasm matmul zero skipping", () => {
  it("skipping A's or B's zeros gives the dense product bit for bit, on one thread and two", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(dims, fc.constantFrom(1, 3, 4, 5, 8, 9, 16, 33), dims, fc.boolean(), fc.boolean())
          .chain((shape) =>
            fc.tuple(
              fc.constant(shape),
              sparseValues(shape[0] * shape[1]),
              sparseValues(shape[1] * shape[2]),
            ),
          ),
        ([shape, av, bv]) => {
          const expected = product(dense, av, bv, shape);
          sameBits(product(sparse, av, bv, shape), expected, "one thread");
          sameBits(product(sparseThreaded, av, bv, shape), expected, "two threads");
          // And the dense product is the reference's within the float32 summation bound.
          const reference = product(cpu as never, av, bv, shape);
          const bound = product(cpu as never, av.map(Math.abs), bv.map(Math.abs), shape);
          for (let i = 0; i < expected.length; i++) {
            expect(Math.abs(expected[i] - reference[i])).toBeLessThanOrEqual(
              2 * (shape[1] + 1) * 2 ** -23 * bound[i] + 1e-30,
            );
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it("MNIST-like batches at the VAE's shapes: X·W1ᵀ (A skipped) and Gᵀ·X (B skipped), every variant", () => {
    // Digits: a blob of ink in the middle of each 28×28 image, zeros around it.
    const images = Float32Array.from({ length: 128 * 784 }, (_, i) => {
      const [img, px] = [Math.floor(i / 784), i % 784];
      const [r, c] = [Math.floor(px / 28), px % 28];
      return Math.abs(r - 14) < 6 + (img % 5) && Math.abs(c - 14) < 4 + (img % 7)
        ? ((i * 37) % 101) / 100
        : 0;
    });
    const other = Float32Array.from({ length: 200 * 784 }, (_, i) => Math.sin(i * 0.37));
    const grad = Float32Array.from({ length: 128 * 200 }, (_, i) => Math.cos(i * 0.11));
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const forward: [number, number, number, boolean, boolean] = [128, 784, 200, ta, tb];
        const weightGrad: [number, number, number, boolean, boolean] = [200, 128, 784, ta, tb];
        for (const [shape, a, b] of [
          [forward, images, other],
          [weightGrad, grad, images],
        ] as const) {
          const expected = product(dense, a, b, shape);
          sameBits(product(sparse, a, b, shape), expected, `${shape}`);
          sameBits(product(sparseThreaded, a, b, shape), expected, `${shape}, two threads`);
        }
      }
    }
  });

  it("a non-finite number in the other operand still gives NaN where the reference does", () => {
    for (const special of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]) {
      // A is all zeros but for its first row; B has one special number: 0·∞ must give NaN.
      const [m, k, n] = [9, 13, 11];
      const av = Float32Array.from({ length: m * k }, (_, i) => (i < k ? 1 + i : 0));
      const bv = Float32Array.from({ length: k * n }, (_, i) => (i === 5 * n + 3 ? special : i % 3));
      for (const backend of [sparse, sparseThreaded]) {
        sameBits(
          product(backend, av, bv, [m, k, n, false, false]),
          product(cpu as never, av, bv, [m, k, n, false, false]),
          "A skipped",
        );
        // The same with the roles swapped: B all zeros, A holding the special number.
        const bt = Float32Array.from({ length: k * m }, (_, i) => av[i]);
        const at = Float32Array.from({ length: n * k }, (_, i) => bv[i]);
        sameBits(
          product(backend, at, bt, [n, k, m, false, true]),
          product(cpu as never, at, bt, [n, k, m, false, true]),
          "B skipped",
        );
      }
    }
  });

  it("a NaN inside the skipped operand is never skipped", () => {
    const [m, k, n] = [8, 16, 8];
    const av = new Float32Array(m * k);
    av[3 * k + 7] = Number.NaN;
    const bv = Float32Array.from({ length: k * n }, (_, i) => i + 1);
    const out = product(sparse, av, bv, [m, k, n, false, false]);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) expect(Number.isNaN(out[i * n + j])).toBe(i === 3);
    }
  });
});

describe("when to skip zeros (sparsity.ts)", () => {
  it("the sampled share of zeros is exact for small arrays and close on large ones", () => {
    const memory = Float32Array.from({ length: 10 }, (_, i) => (i < 3 ? 0 : 1));
    expect(sampledZeroShare(memory, 0, 10)).toBe(0.3);
    expect(sampledZeroShare(memory, 3, 7)).toBe(0);
    expect(sampledZeroShare(memory, 0, 0)).toBe(0);
    // An image-like batch: zero borders, so the zeros have the period of a row of images.
    const large = Float32Array.from({ length: 128 * 784 }, (_, i) =>
      (i % 784) % 28 < 5 || i % 784 < 140 ? 0 : i % 3 === 0 ? 0 : 1,
    );
    const exact = large.filter((v) => v === 0).length / large.length;
    expect(Math.abs(sampledZeroShare(large, 0, large.length) - exact)).toBeLessThan(0.06);
    expect(Math.abs(sampledZeroShare(large, 784, 64 * 784) - exact)).toBeLessThan(0.06);
  });

  it("reads ZERO_SAMPLES numbers, all inside the operand", () => {
    let reads = 0;
    const size = 1000 * ZERO_SAMPLES + 7;
    const memory = new Proxy(new Float32Array(size + 20), {
      get(target, key) {
        if (typeof key === "string" && /^\d+$/.test(key)) {
          reads++;
          const i = Number(key);
          if (i < 10 || i >= 10 + size) throw new Error(`read ${i}, outside [10, ${10 + size})`);
          return target[i];
        }
        return Reflect.get(target, key);
      },
    });
    sampledZeroShare(memory, 10, size);
    expect(reads).toBe(ZERO_SAMPLES);
  });

  it("skips the sparser operand at and above the threshold, neither below it", () => {
    expect(chooseSkip(0.5, 0.2, 0.5)).toBe("a");
    expect(chooseSkip(0.2, 0.5, 0.5)).toBe("b");
    expect(chooseSkip(0.49, 0.49, 0.5)).toBe("none");
    expect(chooseSkip(0.8, 0.9, 0.5)).toBe("b");
    expect(chooseSkip(0.9, 0.9, 0.5)).toBe("a");
    expect(chooseSkip(0, 0, 0)).toBe("a");
    expect(chooseSkip(1, 1, 2)).toBe("none");
  });
});
