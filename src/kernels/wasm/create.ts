/**
 * Making a wasm backend: the module compiled once (per kind of memory and SIMD), a memory, an
 * instance on it, and the worker threads that share it.
 */

import { POOL_BASE, WasmBackend, type WasmOptions } from "./backend.ts";
import { type Kernels, MAX_PAGES, moduleBytes, PAGE_BYTES, relaxedSimdSupported } from "./module.ts";
import { defaultThreadCount, sharedMemorySupported } from "./spawn.ts";
import { CONTROL_BYTES, Threads } from "./threads.ts";
import { type WasmModule, WebAssemblyApi } from "./wasm-api.ts";

/** The memory's first size: 16 MiB, grown on demand. */
const INITIAL_PAGES = 256;

const compiled = new Map<string, Promise<WasmModule>>();

/** The module for shared memory or not, with relaxed SIMD or not: compiled once each. */
function compile(shared: boolean, relaxedSimd: boolean): Promise<WasmModule> {
  const key = `${shared}/${relaxedSimd}`;
  let module = compiled.get(key);
  if (module === undefined) {
    module = WebAssemblyApi.compile(moduleBytes(shared, INITIAL_PAGES, { relaxedSimd }));
    compiled.set(key, module);
  }
  return module;
}

/**
 * A new wasm backend with its own memory and, when `threads` > 1 and memory can be shared here,
 * worker threads. Call `terminate()` when done with a multi-threaded one in a test.
 */
export async function createWasmBackend(options: WasmOptions = {}): Promise<WasmBackend> {
  const wanted = options.threads ?? (await defaultThreadCount());
  if (!Number.isInteger(wanted) || wanted < 1)
    throw new Error(`wasm backend: threads must be a positive integer, got ${wanted}`);
  const shared = wanted > 1 && sharedMemorySupported();
  const relaxedSimd = options.relaxedSimd ?? relaxedSimdSupported();
  if (relaxedSimd && !relaxedSimdSupported())
    throw new Error(
      "wasm backend: relaxedSimd was asked for, but this engine does not validate relaxed SIMD",
    );
  const maxMemory = options.maxMemory ?? MAX_PAGES * PAGE_BYTES;
  if (
    !Number.isInteger(maxMemory) ||
    maxMemory % PAGE_BYTES !== 0 ||
    maxMemory < INITIAL_PAGES * PAGE_BYTES ||
    maxMemory > MAX_PAGES * PAGE_BYTES
  ) {
    throw new Error(
      `wasm backend: maxMemory must be a whole number of 64 KiB pages from ${INITIAL_PAGES * PAGE_BYTES} (16 MiB) to ${MAX_PAGES * PAGE_BYTES} (2 GiB) bytes, got ${maxMemory}`,
    );
  }
  const module = await compile(shared, relaxedSimd);
  const memory = new WebAssemblyApi.Memory({
    initial: INITIAL_PAGES,
    maximum: maxMemory / PAGE_BYTES,
    shared,
  });
  const instance = await WebAssemblyApi.instantiate(module, { env: { memory } });
  const kernels = instance.exports as unknown as Kernels;
  const workers = shared ? wanted - 1 : 0;
  if (workers * CONTROL_BYTES > POOL_BASE)
    throw new Error(`wasm backend: at most ${POOL_BASE / CONTROL_BYTES + 1} threads`);
  const threads =
    workers > 0
      ? await Threads.start({
          module,
          memory,
          workers,
          controlBase: 0,
          // Every kernel: an eager op shares out a few, a compiled step any (program.ts).
          kernels: WebAssemblyApi.Module.exports(module).flatMap((e) =>
            e.kind === "function" ? [e.name] : [],
          ),
          spinMs: options.spinMs ?? 1,
        })
      : null;
  return new WasmBackend(memory, kernels, threads, { ...options, relaxedSimd });
}

let shared: Promise<WasmBackend> | null = null;

/** The wasm backend the registry hands out: created once, with the default options. */
export function wasmBackend(): Promise<WasmBackend> {
  shared ??= createWasmBackend();
  return shared;
}

export { evenSplit } from "./steps.ts";
