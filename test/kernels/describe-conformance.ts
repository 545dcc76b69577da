/**
 * The backend conformance suite (conformance.ts) as vitest tests, on the backends it is given (from
 * test/fixtures/backends.ts): cpu/backend.conformance.test.ts runs it on the cpu reference itself,
 * wasm/backend.conformance.test.ts on wasm with one thread and two (every matmul and elementwise op
 * split between them), gpu/backend.conformance.test.ts on the gpu backend in the shader mode found
 * here (WebGPU through Dawn; on a machine without a GPU, Mesa's llvmpipe) and in gpu.js' cpu mode.
 * On the gpu backend every check of an op it promises to run on the device also asserts, through
 * its fallback counter, that no op ran on the cpu fallback instead. A backend that does not run
 * here is skipped with the reason in its title.
 */
import { describe, it } from "vitest";
import type { GpuBackend } from "../../src/kernels/gpu/index.ts";
import type { BackendUnderTest } from "../fixtures/backends.ts";
import {
  type Contract,
  conformanceChecks,
  cpuContract,
  gpuContract,
  type Target,
  wasmContract,
} from "./conformance.ts";

const contracts: Record<BackendUnderTest["kind"], { contract: Contract; runs: number }> = {
  cpu: { contract: cpuContract, runs: 30 },
  wasm: { contract: wasmContract, runs: 30 },
  // Fewer runs: each property run compiles or dispatches shaders.
  gpu: { contract: gpuContract, runs: 10 },
};

async function targetOf(under: BackendUnderTest): Promise<Target> {
  const backend = await under.load();
  const target: Target = { backend, ...contracts[under.kind] };
  if (under.kind === "gpu") {
    // The gpu backend's count of ops that ran on the cpu fallback, all ops together.
    const gpu = backend as GpuBackend;
    target.fallbacks = () => [...gpu.fallbacks.values()].reduce((s, n) => s + n, 0);
  }
  return target;
}

export function describeConformance(backends: readonly BackendUnderTest[]): void {
  for (const under of backends) {
    const title = under.skip === undefined ? under.title : `${under.title} SKIPPED: ${under.skip}`;
    describe.skipIf(under.skip !== undefined)(title, () => {
      let made: Promise<Target> | undefined;
      for (const check of conformanceChecks) {
        it(check.name, async () => {
          made ??= targetOf(under);
          await check.run(await made);
        });
      }
    });
  }
}
