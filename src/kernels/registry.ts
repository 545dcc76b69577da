/**
 * Which backend new tensors live on. `cpu` is always there; every other backend is loaded on
 * first use through a dynamic import, so a CPU-only user never pays for, or breaks on, a library
 * that only another backend needs (gpu.js, its native modules).
 *
 * Choose with `await useBackend("cpu")`, the `--backend` flag of the scripts, or the environment
 * variable ELBO_BACKEND.
 */
import type { Backend } from "./backend.ts";
import { CpuBackend } from "./cpu/backend.ts";

const cpu = new CpuBackend();
let current: Backend = cpu;

/** How to load each backend by name. Each entry is imported only when it is chosen. */
const loaders = {
  cpu: async (): Promise<Backend> => cpu,
  wasm: async (): Promise<Backend> => (await import("./wasm/backend.ts")).wasmBackend(),
} satisfies Record<string, () => Promise<Backend>>;

export type BackendName = keyof typeof loaders;
export const backendNames = Object.keys(loaders) as BackendName[];

/** The backend that new tensors are created on. */
export function getBackend(): Backend {
  return current;
}

/** Make `backend` the one new tensors are created on. */
export function setBackend(backend: Backend): void {
  current = backend;
}

/** The always-available reference backend. */
export function cpuBackend(): CpuBackend {
  return cpu;
}

/** Load the named backend (once) without switching to it. */
export async function loadBackend(name: string): Promise<Backend> {
  if (!(name in loaders)) {
    throw new Error(`unknown backend "${name}": choose one of ${backendNames.join(", ")}`);
  }
  return loaders[name as BackendName]();
}

/** Load the named backend and make it the current one; returns it. */
export async function useBackend(name: string): Promise<Backend> {
  current = await loadBackend(name);
  return current;
}

/** The backend named by the environment variable ELBO_BACKEND, if it is set (Node only). */
export function backendFromEnvironment(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.ELBO_BACKEND || undefined;
}
