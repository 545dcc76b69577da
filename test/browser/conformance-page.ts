/**
 * The backend conformance suite (test/kernels/conformance.ts), the same module vitest runs in Node,
 * run in a page on the backend its address names:  ?backend=cpu | wasm | gpu&mode=webgl2 (webgpu…)
 * Bundled from the repository's sources (the suite reaches the Backend interface, below the
 * package's entries). Leaves { target, failures } on `window.conformanceResults`.
 */
import { CpuBackend } from "../../src/kernels/cpu/backend.ts";
import { type GpuMode, loadGpuBackend } from "../../src/kernels/gpu/index.ts";
import { createWasmBackend } from "../../src/kernels/wasm/create.ts";
import {
  conformanceChecks,
  cpuContract,
  gpuContract,
  type Target,
  wasmContract,
} from "../kernels/conformance.ts";

async function target(params: URLSearchParams): Promise<{ name: string; target: Target }> {
  const backend = params.get("backend") ?? "cpu";
  if (backend === "wasm") {
    const wasm = await createWasmBackend();
    return {
      name: `wasm, ${wasm.threadCount} thread(s)`,
      target: { backend: wasm, contract: wasmContract, runs: 10 },
    };
  }
  if (backend === "gpu") {
    const gpu = await loadGpuBackend((params.get("mode") ?? undefined) as GpuMode | undefined);
    const fallbacks = () => [...gpu.fallbacks.values()].reduce((s, n) => s + n, 0);
    return {
      name: `gpu.js ${gpu.mode} on ${gpu.detail}`,
      target: { backend: gpu, contract: gpuContract, runs: 5, fallbacks },
    };
  }
  return { name: "cpu", target: { backend: new CpuBackend(), contract: cpuContract, runs: 10 } };
}

async function main(): Promise<{ target: string; checks: number; failures: string[] }> {
  const params = new URLSearchParams(
    (globalThis as unknown as { location: { search: string } }).location.search,
  );
  const { name, target: t } = await target(params);
  const failures: string[] = [];
  for (const check of conformanceChecks) {
    try {
      await check.run(t);
    } catch (error) {
      failures.push(
        `${check.name}: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`,
      );
    }
  }
  return { target: name, checks: conformanceChecks.length, failures };
}

const page = globalThis as { conformanceResults?: unknown };
main().then(
  (results) => {
    page.conformanceResults = results;
  },
  (error: unknown) => {
    page.conformanceResults = { error: String(error) };
  },
);
