/**
 * Which backend new tensors live on. `cpu` is always there; the others are loaded on first use
 * (gpu.js only when asked for), so a CPU-only user never pays for, or breaks on, a GPU library.
 *
 * Choose with `await useBackend("wasm")`, the `--backend` flag of the scripts, or the environment
 * variable ELBO_BACKEND.
 */
import type { Backend } from "./backend.ts";
import { CpuBackend } from "./cpu/backend.ts";

export type BackendName = "cpu";
export const backendNames: readonly BackendName[] = ["cpu"];

const cpu = new CpuBackend();
let current: Backend = cpu;

/** The backend that new tensors are created on. */
export function getBackend(): Backend {
  return current;
}

/** Make `backend` the one new tensors are created on. */
export function setBackend(backend: Backend): void {
  current = backend;
}

export function cpuBackend(): CpuBackend {
  return cpu;
}

/** Load (if needed) and switch to the named backend; returns it. */
export async function useBackend(name: BackendName | string): Promise<Backend> {
  if (!backendNames.includes(name as BackendName)) {
    throw new Error(`useBackend: unknown backend "${name}"; choose one of ${backendNames.join(", ")}`);
  }
  current = cpu;
  return current;
}

/** The backend named by ELBO_BACKEND, or cpu when it is unset. */
export function backendFromEnvironment(): string {
  return process.env.ELBO_BACKEND ?? "cpu";
}
