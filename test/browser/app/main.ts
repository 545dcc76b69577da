/**
 * The page: runs the checks of checks.ts on the backend its address names and leaves the results
 * on `window.elboResults` for the test to read.
 *   ?backend=cpu | wasm | gpu&mode=webgl2 (or webgl, webgpu) | auto      &steps=N (VAE steps)
 * The MNIST images come as IDX bytes from the server (the first 256 training images), parsed here.
 */
import { type Backend, cpuBackend, datasetFromIdx, loadBackend, parseIdx } from "elbojs";
import { type GpuMode, loadGpuBackend } from "elbojs/gpu";
import { createWasmBackend, type WasmBackend } from "elbojs/wasm";
import { type Check, kernelChecks, specialValueChecks, trainVae, vaeVerdict } from "./checks.ts";
import type { PageAnswer, PageResults } from "./results.ts";

async function fetchIdx(url: string) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return parseIdx(new Uint8Array(await response.arrayBuffer()), url);
}

async function chooseBackend(params: URLSearchParams): Promise<{ backend: Backend; detail: string }> {
  const name = params.get("backend") ?? "cpu";
  if (name === "wasm") {
    const wasm: WasmBackend = await createWasmBackend();
    return { backend: wasm, detail: `${wasm.threadCount} thread(s)` };
  }
  if (name === "gpu") {
    const gpu = await loadGpuBackend((params.get("mode") ?? undefined) as GpuMode | undefined);
    return {
      backend: gpu,
      detail: `gpu.js ${gpu.mode} on ${gpu.detail}${gpu.software ? " (software)" : ""}`,
    };
  }
  const backend = await loadBackend(name);
  return { backend, detail: backend.name };
}

async function failuresOf(checks: Check[], backend: Backend): Promise<string[]> {
  const failures: string[] = [];
  for (const check of checks) {
    const failure = await check.run(backend).catch((error: unknown) => `threw ${String(error)}`);
    if (failure !== null) failures.push(`${check.name}: ${failure}`);
  }
  return failures;
}

/** The median of the steps after the first (which compiles kernels and warms caches). */
function steadyMs(ms: number[]): number {
  const rest = ms.slice(1).sort((a, b) => a - b);
  return rest[Math.floor(rest.length / 2)];
}

async function main(): Promise<PageResults> {
  const params = new URLSearchParams(
    (globalThis as unknown as { location: { search: string } }).location.search,
  );
  const steps = Number(params.get("steps") ?? 4);
  const names = { images: "/mnist/images.idx", labels: "/mnist/labels.idx" };
  const data = datasetFromIdx(await fetchIdx(names.images), await fetchIdx(names.labels), names);
  const { backend, detail } = await chooseBackend(params);
  const failures = await failuresOf(kernelChecks, backend);
  const specialFailures = await failuresOf(specialValueChecks, backend);
  const cpu = await trainVae(cpuBackend(), data, steps);
  const run = await trainVae(backend, data, steps);
  const verdict = vaeVerdict(run.losses, cpu.losses);
  if (verdict !== null) failures.push(`VAE: ${verdict}`);
  return {
    backend: backend.name,
    detail,
    threads: "threadCount" in backend ? (backend as WasmBackend).threadCount : 1,
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    failures,
    specialFailures,
    checks: kernelChecks.length + specialValueChecks.length + 1,
    losses: run.losses,
    cpuLosses: cpu.losses,
    msPerStep: steadyMs(run.ms),
    cpuMsPerStep: steadyMs(cpu.ms),
  };
}

const page = globalThis as { elboResults?: PageAnswer };
main().then(
  (results) => {
    page.elboResults = results;
  },
  (error: unknown) => {
    page.elboResults = { error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) };
  },
);
