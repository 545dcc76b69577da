/**
 * ELBO_THREADS, the thread count the wasm backend starts with: read and checked, and a count above
 * the cores accepted with a warning.
 */
import { availableParallelism } from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";
import { defaultThreadCount } from "../../../src/kernels/wasm/spawn.ts";

const saved = process.env.ELBO_THREADS;
afterEach(() => {
  if (saved === undefined) delete process.env.ELBO_THREADS;
  else process.env.ELBO_THREADS = saved;
  vi.restoreAllMocks();
});

describe("ELBO_THREADS", () => {
  it("more threads than cores: a warning that says why and what to do (it made epochs 44× slower)", async () => {
    const cores = availableParallelism();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    process.env.ELBO_THREADS = String(cores * 32);
    expect(await defaultThreadCount()).toBe(cores * 32);
    expect(warn).toHaveBeenCalledWith(
      `ELBO_THREADS=${cores * 32} is more than the ${cores} cores here: threads would take turns and every kernel wait for the last (leave it unset to use ${cores})`,
    );
    warn.mockClear();
    process.env.ELBO_THREADS = String(cores);
    expect(await defaultThreadCount()).toBe(cores);
    expect(warn).not.toHaveBeenCalled();
  });
});

describe("threads", () => {
  it("ELBO_THREADS sets the default thread count, and a bad value is explained", async () => {
    process.env.ELBO_THREADS = "3";
    expect(await defaultThreadCount()).toBe(3);
    process.env.ELBO_THREADS = "two";
    await expect(defaultThreadCount()).rejects.toThrow(/ELBO_THREADS/);
    delete process.env.ELBO_THREADS;
    expect(await defaultThreadCount()).toBeGreaterThanOrEqual(1);
  });
});
