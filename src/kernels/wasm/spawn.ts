/**
 * Everything about threads that differs between Node and browsers, in one place: starting a
 * worker, counting cores, and whether shared memory and blocking waits are allowed here.
 * The kernels and the dispatcher use only what this file returns.
 */

/** The part of a Worker we use, the same in Node and in browsers. */
export interface WorkerHandle {
  postMessage(message: unknown): void;
  /** Calls `listener` with each message's data. */
  onMessage(listener: (data: unknown) => void): void;
  onError(listener: (error: unknown) => void): void;
  terminate(): Promise<void>;
}

interface NodeProcess {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
}

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : undefined;
}

/** A module name hidden from bundlers, which would otherwise try to resolve Node built-ins for the browser. */
async function importNode<T>(name: string): Promise<T> {
  return (await import(/* @vite-ignore */ name)) as T;
}

/** Start a worker running the ES module at `url`. It does not keep a Node process alive. */
export async function spawnWorker(url: URL): Promise<WorkerHandle> {
  if (nodeProcess()) {
    const { Worker } = await importNode<typeof import("node:worker_threads")>("node:worker_threads");
    const worker = new Worker(url);
    worker.unref();
    return {
      postMessage: (message) => worker.postMessage(message),
      onMessage: (listener) => worker.on("message", listener),
      onError: (listener) => worker.on("error", listener),
      terminate: async () => {
        await worker.terminate();
      },
    };
  }
  // A browser's Worker (the project's TypeScript library has no DOM types, so we name what we use).
  interface BrowserWorker {
    postMessage(message: unknown): void;
    addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
    terminate(): void;
  }
  const BrowserWorker = (
    globalThis as { Worker?: new (url: URL, options: { type: "module" }) => BrowserWorker }
  ).Worker;
  if (BrowserWorker === undefined)
    throw new Error("wasm backend: this environment has no Worker to run threads on");
  const worker = new BrowserWorker(url, { type: "module" });
  return {
    postMessage: (message) => worker.postMessage(message),
    onMessage: (listener) => worker.addEventListener("message", (event) => listener(event.data)),
    onError: (listener) => worker.addEventListener("error", (event) => listener(event)),
    terminate: async () => worker.terminate(),
  };
}

/** How many threads to use by default: ELBO_THREADS if set (Node), else the number of cores. */
export async function defaultThreadCount(): Promise<number> {
  const node = nodeProcess();
  const setting = node?.env?.ELBO_THREADS;
  if (setting !== undefined && setting !== "") {
    const n = Number(setting);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`ELBO_THREADS must be a positive integer, got "${setting}"`);
    const cores = node ? (await importNode<typeof import("node:os")>("node:os")).availableParallelism() : n;
    if (n > cores)
      console.warn(
        `ELBO_THREADS=${n} is more than the ${cores} cores here: threads would take turns and every kernel wait for the last (leave it unset to use ${cores})`,
      );
    return n;
  }
  if (node) {
    const os = await importNode<typeof import("node:os")>("node:os");
    return os.availableParallelism();
  }
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

/**
 * Whether memory can be shared between threads: always in Node; in a browser only on a
 * cross-origin-isolated page (served with COOP/COEP headers), else SharedArrayBuffer is withheld.
 */
export function sharedMemorySupported(): boolean {
  if (typeof SharedArrayBuffer === "undefined") return false;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return nodeProcess() !== undefined || isolated === true;
}

/** Whether this thread may block in Atomics.wait (a browser's main thread may not; it spins instead). */
export function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
