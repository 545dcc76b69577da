/**
 * Which backend new tensors live on. `cpu` is always there; every other backend is loaded on
 * first use through a dynamic import, so a CPU-only user never pays for, or breaks on, a library
 * that only another backend needs (gpu.js, its native modules).
 *
 * Choose with `await useBackend("cpu")`. The library itself never reads the environment: a
 * program that wants the variable ELBO_BACKEND to choose asks `backendFromEnvironment()`, as the
 * trainer (`npm run train:mnist`, beside its `--backend` flag) does.
 */
import type { Backend } from "./backend.ts";
import { CpuBackend } from "./cpu/backend.ts";
import { environmentVariable } from "./environment.ts";
import type { GpuProbe } from "./gpu/index.ts";

const cpu = new CpuBackend();
let current: Backend = cpu;

/** How to load each backend by name. Each entry is imported only when it is chosen. */
const loaders = {
  cpu: async (): Promise<Backend> => cpu,
  wasm: async (): Promise<Backend> => (await import("./wasm/create.ts")).wasmBackend(),
  gpu: async (): Promise<Backend> => (await import("./gpu/index.ts")).loadGpuBackend(),
  auto: (): Promise<Backend> => chooseAutoBackend(),
} satisfies Record<string, () => Promise<Backend>>;

export type BackendName = keyof typeof loaders;
export const backendNames = Object.keys(loaders) as BackendName[];

/**
 * `auto`: the gpu backend when gpu.js has a mode here that runs shaders on a real GPU (in Node
 * WebGPU through Dawn or headless-gl; in a page WebGPU, WebGL2 or WebGL), else the fastest CPU
 * backend (wasm where WebAssembly SIMD runs, else cpu). A software renderer (Mesa's
 * llvmpipe, say) runs the shaders on the CPU, slower than the CPU backends, so auto passes it by;
 * `gpu` uses it when asked. Says which it chose and why, once. The probe, the loaders and the
 * message go through parameters so tests can stand in for other machines.
 */
export async function chooseAutoBackend(
  probe: () => Promise<GpuProbe> = async () => (await import("./gpu/index.ts")).probeGpu(),
  say: (message: string) => void = sayOnce,
  loadGpu: () => Promise<Backend> = loaders.gpu,
  loadFastCpu: () => Promise<Backend> = loaders.wasm,
): Promise<Backend> {
  const fallBack = async (why: string): Promise<Backend> => {
    try {
      const fast = await loadFastCpu();
      say(`elbo: backend auto → ${fast.name}: ${why}`);
      return fast;
    } catch (error) {
      say(`elbo: backend auto → cpu: ${why}; and the wasm backend did not start (${messageOf(error)})`);
      return cpu;
    }
  };
  let found: GpuProbe;
  try {
    found = await probe();
  } catch (error) {
    return fallBack(`gpu.js could not be loaded (${messageOf(error)})`);
  }
  if (found.mode === null) return fallBack(`no GPU mode works here (${found.detail})`);
  if (found.software) {
    return fallBack(
      `the GPU mode found here is gpu.js ${found.mode} on a software renderer (${found.detail}), which is slower than the CPU backends; choose the gpu backend to use it anyway`,
    );
  }
  try {
    const gpu = await loadGpu();
    say(`elbo: backend auto → gpu: gpu.js ${found.mode} on ${found.detail}`);
    return gpu;
  } catch (error) {
    return fallBack(`the gpu backend did not start (${messageOf(error)})`);
  }
}

let said = false;
function sayOnce(message: string): void {
  if (!said) console.warn(message);
  said = true;
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}

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

/**
 * The backend named by the environment variable ELBO_BACKEND, if it is set (Node only). Nothing in
 * the library calls this on its own: `await useBackend(backendFromEnvironment() ?? "cpu")` is how a
 * script honours the variable.
 */
export function backendFromEnvironment(): string | undefined {
  return environmentVariable("ELBO_BACKEND");
}
