/**
 * Everything about threads that differs between Node and browsers, in one place: starting a
 * worker, counting cores, and whether shared memory and blocking waits are allowed here.
 * The kernels and the dispatcher use only what this file returns.
 */
import { environmentVariable, importNode, nodeProcess } from "../environment.ts";
import { workerSource } from "./worker.ts";

/** The part of a Worker we use, the same in Node and in browsers. */
export interface WorkerHandle {
  postMessage(message: unknown): void;
  /** Calls `listener` with each message's data. */
  onMessage(listener: (data: unknown) => void): void;
  onError(listener: (error: unknown) => void): void;
  /** Let Node exit while this worker waits for jobs (jobs are handed out through shared memory). */
  unref(): void;
  terminate(): Promise<void>;
}

/**
 * Start a worker running worker.ts's loop, as an ES module made from its source text: a data: URL
 * in Node, a Blob URL in a page.
 */
export async function spawnWorker(): Promise<WorkerHandle> {
  if (nodeProcess()) {
    const { Worker } = await importNode<typeof import("node:worker_threads")>("node:worker_threads");
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(workerSource)}`));
    return {
      postMessage: (message) => worker.postMessage(message),
      onMessage: (listener) => worker.on("message", listener),
      onError: (listener) => worker.on("error", listener),
      // After its listeners are attached (each refs the worker again).
      unref: () => worker.unref(),
      terminate: async () => {
        await worker.terminate();
      },
    };
  }
  // A browser's Worker, Blob and URL (the project's TypeScript library has no DOM types, so we name what we use).
  interface BrowserWorker {
    postMessage(message: unknown): void;
    addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
    terminate(): void;
  }
  const page = globalThis as {
    Worker?: new (url: string, options: { type: "module" }) => BrowserWorker;
    Blob?: new (parts: string[], options: { type: string }) => object;
  };
  if (page.Worker === undefined || page.Blob === undefined)
    throw new Error("wasm backend: this environment has no Worker to run threads on");
  const blob = new page.Blob([workerSource], { type: "text/javascript" });
  const url = (URL as unknown as { createObjectURL(blob: object): string }).createObjectURL(blob);
  const worker = new page.Worker(url, { type: "module" });
  return {
    postMessage: (message) => worker.postMessage(message),
    onMessage: (listener) => worker.addEventListener("message", (event) => listener(event.data)),
    onError: (listener) => worker.addEventListener("error", (event) => listener(event)),
    unref: () => {},
    terminate: async () => worker.terminate(),
  };
}

/** How many threads to use by default: ELBO_THREADS if set (Node), else the number of cores. */
export async function defaultThreadCount(): Promise<number> {
  const setting = environmentVariable("ELBO_THREADS");
  if (setting !== undefined) {
    const n = Number(setting);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`ELBO_THREADS must be a positive integer, got "${setting}"`);
    const cores = nodeProcess() ? await nodeCores() : n;
    if (n > cores)
      console.warn(
        `ELBO_THREADS=${n} is more than the ${cores} cores here: threads would take turns and every kernel wait for the last (leave it unset to use ${cores})`,
      );
    return n;
  }
  if (nodeProcess()) return nodeCores();
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

async function nodeCores(): Promise<number> {
  return (await importNode<typeof import("node:os")>("node:os")).availableParallelism();
}

/**
 * Whether memory can be shared between threads: always in Node; in a browser only on a
 * cross-origin-isolated page (served with COOP/COEP headers), else SharedArrayBuffer is withheld.
 * Asked only when more than one thread is wanted, so where the answer is no it says, once, that
 * the wasm backend runs on one thread and how to get more.
 */
export function sharedMemorySupported(): boolean {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  const supported =
    typeof SharedArrayBuffer !== "undefined" && (nodeProcess() !== undefined || isolated === true);
  if (!supported && !saidOneThread) {
    saidOneThread = true;
    console.warn(
      "elbo: the wasm backend runs on one thread: this page is not cross-origin isolated, so it has no SharedArrayBuffer (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp for threads)",
    );
  }
  return supported;
}

let saidOneThread = false;

/** Whether this thread may block in Atomics.wait (a browser's main thread may not; it spins instead). */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
