/**
 * The backend conformance suite (conformance.ts) on every backend and mode that runs in Node: the
 * cpu reference itself, wasm on one thread and on two (every matmul and elementwise op split
 * between them), and the gpu backend in the shader mode found here (WebGPU through Dawn; on a
 * machine without a GPU, Mesa's llvmpipe) and in gpu.js' cpu mode (the same kernel sources run as
 * JavaScript). On the gpu backend every check of an op it promises to run on the device also
 * asserts, through its fallback counter, that no op ran on the cpu fallback instead.
 *
 * Where no shader mode works the shader target is skipped with the reason in its title; with
 * ELBO_REQUIRE_SHADERS=1 (CI) that fails instead.
 */
import { afterAll, describe, it } from "vitest";
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";
import { type GpuBackend, loadGpuBackend, shaderModes } from "../../src/kernels/gpu/index.ts";
import { createWasmBackend, type WasmBackend } from "../../src/kernels/wasm/backend.ts";
import { shaderProbe } from "../fixtures/shader-probe.ts";
import { conformanceChecks, cpuContract, gpuContract, type Target, wasmContract } from "./conformance.ts";

const probe = await shaderProbe();

/** The gpu backend's count of ops that ran on the cpu fallback, all ops together. */
const fallbacksOf = (gpu: GpuBackend) => () => [...gpu.fallbacks.values()].reduce((s, n) => s + n, 0);

const terminate: WasmBackend[] = [];
afterAll(async () => {
  for (const backend of terminate) await backend.terminate();
});

const targets: { title: string; skip?: string; target: () => Promise<Target> }[] = [
  { title: "cpu", target: async () => ({ backend: new CpuBackend(), contract: cpuContract, runs: 30 }) },
  {
    title: "wasm, one thread",
    target: async () => ({
      backend: await createWasmBackend({ threads: 1 }),
      contract: wasmContract,
      runs: 30,
    }),
  },
  {
    title: "wasm, two threads splitting every op",
    target: async () => {
      const backend = await createWasmBackend({ threads: 2, parallelFlops: 0, parallelElements: 0 });
      terminate.push(backend);
      return { backend, contract: wasmContract, runs: 30 };
    },
  },
  {
    title: `gpu, shader mode: ${probe.title}`,
    skip: probe.shaderMode === null ? probe.detail : undefined,
    target: async () => {
      const gpu = await loadGpuBackend(probe.shaderMode!);
      if (!shaderModes.includes(gpu.mode)) throw new Error(`asked for ${probe.shaderMode}, got ${gpu.mode}`);
      return { backend: gpu, contract: gpuContract, runs: 10, fallbacks: fallbacksOf(gpu) };
    },
  },
  {
    title: "gpu, gpu.js cpu mode (the same kernel sources, run as JavaScript)",
    target: async () => {
      const gpu = await loadGpuBackend("cpu");
      return { backend: gpu, contract: gpuContract, runs: 10, fallbacks: fallbacksOf(gpu) };
    },
  },
];

it(`a shader mode runs here${probe.required ? " (required: ELBO_REQUIRE_SHADERS=1)" : ""}`, () => {
  if (probe.required && probe.shaderMode === null) throw new Error(`no shader mode: ${probe.detail}`);
});

for (const { title, skip, target } of targets) {
  describe.skipIf(skip !== undefined)(skip === undefined ? title : `${title} SKIPPED: ${skip}`, () => {
    let made: Promise<Target> | undefined;
    for (const check of conformanceChecks) {
      it(check.name, async () => {
        made ??= target();
        await check.run(await made);
      });
    }
  });
}
