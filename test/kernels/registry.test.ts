import { describe, expect, it } from "vitest";
import type { Backend } from "../../src/kernels/backend.ts";
import type { GpuProbe } from "../../src/kernels/gpu/index.ts";
import { backendNames, chooseAutoBackend, cpuBackend, loadBackend } from "../../src/kernels/registry.ts";

/** Run auto with a stand-in probe and gpu loader; return the backend and what it said. */
async function auto(
  probe: () => Promise<GpuProbe>,
  loadGpu: () => Promise<Backend> = async () => {
    throw new Error("the test did not expect the gpu backend to be loaded");
  },
): Promise<{ backend: Backend; said: string[] }> {
  const said: string[] = [];
  // The fast CPU backend is stood in for by cpu here; the next describe checks the real choice.
  const backend = await chooseAutoBackend(
    probe,
    (m) => said.push(m),
    loadGpu,
    async () => cpuBackend(),
  );
  return { backend, said };
}

describe("backend auto", () => {
  it("falls back to cpu, saying why, when gpu.js cannot even be loaded", async () => {
    const { backend, said } = await auto(async () => {
      throw new Error("Cannot find package 'gpu.js'");
    });
    expect(backend).toBe(cpuBackend());
    expect(said).toEqual([
      "elbo: backend auto → cpu: gpu.js could not be loaded (Cannot find package 'gpu.js')",
    ]);
  });

  it("falls back to cpu when no GPU mode works, passing on each mode's reason", async () => {
    const detail = 'webgpu: no adapter; headlessgl: the optional native package "gl" is not built';
    const { backend, said } = await auto(async () => ({ mode: null, detail, software: false }));
    expect(backend).toBe(cpuBackend());
    expect(said).toEqual([`elbo: backend auto → cpu: no GPU mode works here (${detail})`]);
  });

  it("passes a software renderer by (it is slower than the cpu backend) and says how to use it anyway", async () => {
    const { backend, said } = await auto(async () => ({
      mode: "webgpu",
      detail: "llvmpipe via Dawn",
      software: true,
    }));
    expect(backend).toBe(cpuBackend());
    expect(said[0]).toMatch(
      /^elbo: backend auto → cpu: .*webgpu on a software renderer \(llvmpipe via Dawn\).*choose the gpu backend/,
    );
  });

  it("uses the gpu backend on a real GPU, and says which mode runs on what", async () => {
    const fake = { name: "gpu" } as Backend;
    const { backend, said } = await auto(
      async () => ({ mode: "webgpu", detail: "NVIDIA GeForce RTX 4090 via Dawn", software: false }),
      async () => fake,
    );
    expect(backend).toBe(fake);
    expect(said).toEqual(["elbo: backend auto → gpu: gpu.js webgpu on NVIDIA GeForce RTX 4090 via Dawn"]);
  });

  it("falls back to cpu when the gpu backend fails to start", async () => {
    const { backend, said } = await auto(
      async () => ({ mode: "webgpu", detail: "some GPU", software: false }),
      async () => {
        throw new Error("a test kernel computed [0, 0, 0]");
      },
    );
    expect(backend).toBe(cpuBackend());
    expect(said).toEqual([
      "elbo: backend auto → cpu: the gpu backend did not start (a test kernel computed [0, 0, 0])",
    ]);
  });

  it("prefers the wasm backend without a GPU, and says when even that fails", async () => {
    const noGpu = async (): Promise<GpuProbe> => ({ mode: null, detail: "none", software: false });
    const said: string[] = [];
    const chosen = await chooseAutoBackend(noGpu, (m) => said.push(m), undefined, undefined);
    expect(chosen.name).toBe("wasm");
    expect(said).toEqual(["elbo: backend auto → wasm: no GPU mode works here (none)"]);
    said.length = 0;
    const fallback = await chooseAutoBackend(
      noGpu,
      (m) => said.push(m),
      undefined,
      async () => {
        throw new Error("WebAssembly SIMD is not supported");
      },
    );
    expect(fallback).toBe(cpuBackend());
    expect(said[0]).toMatch(
      /→ cpu: no GPU mode works here \(none\); and the wasm backend did not start \(WebAssembly SIMD is not supported\)/,
    );
  });

  it("is listed with gpu among the backends, and an unknown name is an error that lists them", async () => {
    expect(backendNames).toEqual(expect.arrayContaining(["cpu", "gpu", "auto"]));
    await expect(loadBackend("cuda")).rejects.toThrow(/unknown backend "cuda": choose one of .*gpu.*auto/);
  });
});

describe("ELBO_GPU_MODE", () => {
  it("runs the gpu backend on gpu.js' cpu mode when named, with no GPU at all", async () => {
    process.env.ELBO_GPU_MODE = "cpu";
    try {
      const gpu = await loadBackend("gpu");
      expect(gpu.name).toBe("gpu");
      const s = gpu.unary("neg", gpu.fromArray(Float32Array.from([1, -2])));
      expect(Array.from(await gpu.read(s))).toEqual([-1, 2]);
    } finally {
      delete process.env.ELBO_GPU_MODE;
    }
  });

  it("rejects a mode gpu.js does not have", async () => {
    process.env.ELBO_GPU_MODE = "cuda";
    try {
      await expect(loadBackend("gpu")).rejects.toThrow(
        /ELBO_GPU_MODE=cuda: choose one of webgpu, headlessgl, webasm, cpu/,
      );
    } finally {
      delete process.env.ELBO_GPU_MODE;
    }
  });
});
