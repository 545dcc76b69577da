/**
 * Work shared between threads. Elementwise ops on one block of rows and column sums are split by
 * rows, columns or runs of vectors; each thread computes its part exactly as one thread would, so
 * the results are bit for bit one thread's (and, for binary ops, the reference's). A terminated
 * backend keeps working on the calling thread, and workers follow the shared memory as it grows.
 *
 * Claiming jobs (threads.ts): a job runs on exactly one thread, the worker when it gets there
 * first, else the calling thread once its own share is done; so a worker that is not running —
 * unscheduled on a busy machine, or gone — never holds a run up, and the numbers are the same.
 */
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BinaryOp } from "../../../src/kernels/backend.ts";
import { CpuBackend } from "../../../src/kernels/cpu/backend.ts";
import type { WasmBackend } from "../../../src/kernels/wasm/backend.ts";
import { createWasmBackend } from "../../../src/kernels/wasm/create.ts";
import { type Kernels, moduleBytes } from "../../../src/kernels/wasm/module.ts";
import { evenSplit } from "../../../src/kernels/wasm/steps.ts";
import { CONTROL_BYTES, Threads } from "../../../src/kernels/wasm/threads.ts";
import { WebAssemblyApi } from "../../../src/kernels/wasm/wasm-api.ts";

async function setUp(workers: number) {
  const memory = new WebAssemblyApi.Memory({ initial: 64, maximum: 32768, shared: true });
  const module = await WebAssemblyApi.compile(moduleBytes(true, 64));
  const { exports } = await WebAssemblyApi.instantiate(module, { env: { memory } });
  const threads = await Threads.start({
    module,
    memory,
    workers,
    controlBase: 0,
    kernels: ["reduce_cols_sum"],
    spinMs: 1,
  });
  const kernels = exports as unknown as Kernels;
  const f32 = new Float32Array(memory.buffer);
  const base = 4 * CONTROL_BYTES; // past the control blocks
  /**
   * out += x over n numbers, one job per thread, with the kernel that adds into its output: a
   * job run twice would show as 2x, a job not run as 0.
   */
  const addOnce = (n: number): Float32Array => {
    const x = base;
    const out = base + 4 * n;
    f32.set(
      Float32Array.from({ length: n }, (_, i) => i + 1),
      x / 4,
    );
    f32.fill(0, out / 4, out / 4 + n);
    const parts = threads.count;
    const jobs = Array.from({ length: parts }, (_, t) => {
      const lo = Math.floor((t * n) / parts);
      const hi = Math.floor(((t + 1) * n) / parts);
      return [x + 4 * lo, out + 4 * lo, 1, hi - lo, 0];
    });
    threads.run("reduce_cols_sum", kernels, jobs);
    return f32.slice(out / 4, out / 4 + n);
  };
  return { threads, addOnce };
}

const expected = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 1);

describe("threads claim jobs", () => {
  it("many runs in a row add every number exactly once, whichever thread ran each job", async () => {
    const { threads, addOnce } = await setUp(2);
    try {
      for (let r = 0; r < 2000; r++) {
        const n = 1 + (r % 97);
        expect(addOnce(n)).toEqual(expected(n));
      }
    } finally {
      await threads.terminate();
    }
  });

  it("jobs posted to workers that are gone are run by the calling thread, at once", async () => {
    const { threads, addOnce } = await setUp(2);
    await threads.terminate();
    // Without claiming, the first run would wait for the worker until the test times out.
    for (let r = 0; r < 50; r++) expect(addOnce(1000)).toEqual(expected(1000));
  });
});

describe("elementwise ops and column sums shared between threads", () => {
  const cpu = new CpuBackend();
  let threaded: WasmBackend;
  beforeAll(async () => {
    // Threshold 0: every binary op and column sum is split, however small.
    threaded = await createWasmBackend({ threads: 2, parallelElements: 0 });
  });
  afterAll(async () => {
    await threaded?.terminate();
  });

  const ops: BinaryOp[] = ["add", "sub", "mul", "div", "max", "min", "eq", "lt"];
  /** [rows, cols] and how b broadcasts against it: same shape, a bias row, a column, one number. */
  const caseArb = fc
    .tuple(
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 41 }),
      fc.constantFrom("same", "row", "column", "scalar"),
      fc.constantFrom(...ops),
      fc.boolean(),
    )
    .chain(([rows, cols, kind, op, swap]) => {
      const bShape = { same: [rows, cols], row: [cols], column: [rows, 1], scalar: [] as number[] }[kind];
      const size = bShape.reduce((x, y) => x * y, 1);
      const value = fc.oneof(
        fc.double({ min: -5, max: 5, noNaN: true }),
        fc.constantFrom(0, -0, Number.NaN, 1 / 0),
      );
      return fc.tuple(
        fc.constant({ shape: [rows, cols], bShape, op, swap }),
        fc.array(value, { minLength: rows * cols, maxLength: rows * cols }),
        fc.array(value, { minLength: size, maxLength: size }),
      );
    });

  it("binary ops, broadcast or not, either operand first, match the reference bit for bit", () => {
    fc.assert(
      fc.property(caseArb, ([{ shape, bShape, op, swap }, av, bv]) => {
        const [xShape, yShape] = swap ? [bShape, shape] : [shape, bShape];
        const [xv, yv] = swap ? [bv, av] : [av, bv];
        const expected = cpu.readSync(
          cpu.binary(
            op,
            cpu.fromArray(Float32Array.from(xv)),
            xShape,
            cpu.fromArray(Float32Array.from(yv)),
            yShape,
            shape,
          ),
        );
        const actual = threaded.readSync(
          threaded.binary(
            op,
            threaded.fromArray(Float32Array.from(xv)),
            xShape,
            threaded.fromArray(Float32Array.from(yv)),
            yShape,
            shape,
          ),
        );
        expect(actual.length).toBe(expected.length);
        for (let i = 0; i < expected.length; i++) {
          if (!Object.is(actual[i], expected[i]))
            throw new Error(`${op} element ${i}: ${actual[i]} vs ${expected[i]}`);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("column sums and maxima (a bias gradient over a batch) are one thread's bit for bit", async () => {
    const one = await createWasmBackend({ threads: 1 });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 41 }),
        fc.constantFrom("sum" as const, "max" as const),
        (rows, cols, op) => {
          const x = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.7) * 10);
          const expected = one.readSync(one.reduce(op, one.fromArray(x), [rows, cols], [0]));
          const actual = threaded.readSync(threaded.reduce(op, threaded.fromArray(x), [rows, cols], [0]));
          expect(Array.from(actual)).toEqual(Array.from(expected));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("evenSplit cuts n into runs of whole units that cover it once", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(1, 4),
        (n, parts, unit) => {
          const ranges = evenSplit(n, parts, unit);
          expect(ranges).toHaveLength(parts);
          expect(ranges[0][0]).toBe(0);
          expect(ranges[parts - 1][1]).toBe(n);
          for (let t = 0; t < parts; t++) {
            expect(ranges[t][0]).toBeLessThanOrEqual(ranges[t][1]);
            if (t > 0) expect(ranges[t][0]).toBe(ranges[t - 1][1]);
            if (t < parts - 1) expect(ranges[t][1] % unit).toBe(0);
          }
        },
      ),
    );
  });
});

describe("threads", () => {
  const saved = process.env.ELBO_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.ELBO_THREADS;
    else process.env.ELBO_THREADS = saved;
  });

  it("a terminated backend keeps working on the calling thread", async () => {
    const backend = await createWasmBackend({ threads: 2, parallelFlops: 0 });
    expect(backend.threadCount).toBe(2);
    const a = backend.fromArray(Float32Array.from({ length: 64 }, (_, i) => i));
    const before = backend.readSync(
      backend.matmul(a, a, { batch: 1, m: 8, k: 8, n: 8, transA: false, transB: true }),
    );
    await backend.terminate();
    expect(backend.threadCount).toBe(1);
    expect(
      backend.readSync(backend.matmul(a, a, { batch: 1, m: 8, k: 8, n: 8, transA: false, transB: true })),
    ).toEqual(before);
  });

  it("a matmul after the shared memory grew still reaches the worker's instance", async () => {
    const backend = await createWasmBackend({ threads: 2, parallelFlops: 0 });
    try {
      const big = backend.fill(40 * 1024 * 1024, 1, "float32"); // 160 MB: the memory grows
      const a = backend.fill(64 * 64, 1, "float32");
      expect(
        Array.from(
          backend
            .readSync(backend.matmul(a, a, { batch: 1, m: 64, k: 64, n: 64, transA: false, transB: false }))
            .subarray(0, 3),
        ),
      ).toEqual([64, 64, 64]);
      backend.dispose(big);
    } finally {
      await backend.terminate();
    }
  });
});
