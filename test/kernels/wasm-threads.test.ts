/**
 * Claiming jobs (threads.ts): a job runs on exactly one thread, the worker when it gets there
 * first, else the calling thread once its own share is done; so a worker that is not running —
 * unscheduled on a busy machine, or gone — never holds a run up, and the numbers are the same.
 */
import { describe, expect, it } from "vitest";
import { type Kernels, moduleBytes } from "../../src/kernels/wasm/module.ts";
import { CONTROL_BYTES, Threads } from "../../src/kernels/wasm/threads.ts";
import { WebAssemblyApi } from "../../src/kernels/wasm/wasm-api.ts";

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
