/**
 * Every backend says what runs it through the Backend interface, typed, so a program prints or
 * chooses by it without a cast: cpu, wasm (its threads and SIMD), and gpu (gpu.js' mode, the
 * device and whether it is a software renderer) in gpu.js' cpu mode, which runs here without a GPU.
 */
import { describe, expect, it } from "vitest";
import { type BackendDescription, getBackend, useBackend } from "../../src/index.ts";
import { loadGpuBackend } from "../../src/kernels/gpu/index.ts";
import { createWasmBackend } from "../../src/kernels/wasm/create.ts";
import { relaxedSimdSupported } from "../../src/kernels/wasm/module.ts";

describe("Backend.describe()", () => {
  it("cpu: one thread, no GPU", async () => {
    await useBackend("cpu");
    const d: BackendDescription = getBackend().describe();
    expect(d).toEqual({
      name: "cpu",
      threads: 1,
      gpuMode: null,
      device: null,
      softwareRenderer: false,
      summary: "cpu, plain TypeScript on one thread",
    });
  });

  it("wasm: its worker threads and whether its multiply-adds are fused", async () => {
    for (const [threads, relaxedSimd] of [
      [1, false],
      [2, relaxedSimdSupported()],
    ] as [number, boolean][]) {
      const wasm = await createWasmBackend({ threads, relaxedSimd });
      try {
        const d = wasm.describe();
        expect(d.threads).toBe(wasm.threadCount);
        expect(d.threads).toBe(threads);
        expect(d).toMatchObject({ name: "wasm", gpuMode: null, device: null, softwareRenderer: false });
        expect(d.summary).toBe(
          `wasm, ${threads} thread${threads === 1 ? "" : "s"}, ${relaxedSimd ? "relaxed-SIMD fused multiply-adds" : "SIMD128"}`,
        );
      } finally {
        await wasm.terminate();
      }
    }
  });

  it("gpu: gpu.js' mode, the device, and that gpu.js' cpu mode is no GPU", async () => {
    const gpu = await loadGpuBackend("cpu");
    const d = gpu.describe();
    expect(d).toMatchObject({ name: "gpu", threads: 1, gpuMode: "cpu", softwareRenderer: true });
    expect(d.device).toBe(gpu.detail);
    expect(d.summary).toBe(`gpu, gpu.js cpu on ${gpu.detail} (a software renderer: shaders run on the CPU)`);
  });
});
