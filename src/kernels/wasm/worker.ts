/**
 * The worker side of threads.ts. A worker instantiates the backend's WebAssembly module over the
 * same shared memory as the main thread, then waits for jobs in its control block (a few integers
 * in that memory) and runs them: the main thread writes a kernel's number and arguments, bumps the
 * job counter, and this loop sees it, calls the kernel, and publishes the counter back as done.
 *
 * A worker runs the source text of `workerMain` (`workerSource`), started from a data: URL in Node
 * and a Blob URL in a page (spawn.ts): the worker is built into the module, so there is no file
 * for a bundler to find or a user to copy. That is why the function refers to nothing outside
 * itself, not even the layout constants, which must match threads.ts. The loop is split into small
 * functions because V8 optimizes a function after it has been called a few times, but a loop that
 * never returns only much later.
 */
export async function workerMain(): Promise<void> {
  const SEQ = 0; // job counter, bumped by the main thread
  const DONE = 1; // last job finished, written here
  const SLEEPING = 2; // 1 while this worker blocks in Atomics.wait (so the main thread knows to notify)
  const KERNEL = 3; // which kernel to run; -1 means stop
  const STATUS = 4; // 0 ok, 1 the kernel threw
  const ARGC = 5;
  const ARGS = 8;
  const CONTROL_INTS = 64;

  interface Setup {
    module: object;
    memory: { buffer: SharedArrayBuffer };
    control: number;
    kernels: string[];
    spinMs: number;
  }
  interface Channel {
    post(message: unknown): void;
    once(listener: (setup: Setup) => void): void;
  }
  interface WorkerScope {
    postMessage(message: unknown): void;
    addEventListener(type: "message", listener: (event: { data: Setup }) => void, options: object): void;
  }
  interface NodePort {
    postMessage(message: unknown): void;
    once(type: "message", listener: (setup: Setup) => void): void;
  }
  type Wasm = {
    Instance: new (module: object, imports: object) => { exports: Record<string, (...args: number[]) => void> };
  };

  /** The channel to the thread that started us: Node's parentPort, or a browser worker's global scope. */
  async function channel(): Promise<Channel> {
    const node = (globalThis as { process?: { versions?: { node?: string } } }).process;
    if (node?.versions?.node) {
      const name = "node:worker_threads";
      const { parentPort } = (await import(name)) as { parentPort: NodePort };
      return { post: (m) => parentPort.postMessage(m), once: (fn) => parentPort.once("message", fn) };
    }
    const scope = globalThis as unknown as WorkerScope;
    return {
      post: (m) => scope.postMessage(m),
      once: (fn) => scope.addEventListener("message", (event) => fn(event.data), { once: true }),
    };
  }

  /**
   * Wait until the job counter moves past `seen`, and return it. Spin for `spinMs` first: the next
   * job often comes within microseconds, and waking from Atomics.wait costs tens of them.
   */
  function nextJob(ctrl: Int32Array, seen: number, spinMs: number): number {
    for (;;) {
      const deadline = performance.now() + spinMs;
      do {
        for (let i = 0; i < 256; i++) if (Atomics.load(ctrl, SEQ) !== seen) return Atomics.load(ctrl, SEQ);
      } while (performance.now() < deadline);
      Atomics.store(ctrl, SLEEPING, 1);
      Atomics.wait(ctrl, SEQ, seen);
      Atomics.store(ctrl, SLEEPING, 0);
    }
  }

  /** Run the job in the control block; false when it asks us to stop. */
  function runJob(ctrl: Int32Array, functions: ((...args: number[]) => void)[], port: Channel): boolean {
    const kernel = ctrl[KERNEL];
    if (kernel < 0) return false;
    const args: number[] = [];
    for (let i = 0; i < ctrl[ARGC]; i++) args.push(ctrl[ARGS + i]);
    try {
      functions[kernel](...args);
      ctrl[STATUS] = 0;
    } catch (error) {
      ctrl[STATUS] = 1;
      port.post({ error: String(error) });
    }
    return true;
  }

  const port = await channel();
  port.once(({ module, memory, control, kernels, spinMs }) => {
    const { Instance } = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
    const instance = new Instance(module, { env: { memory } });
    const functions = kernels.map((name) => instance.exports[name]);
    const ctrl = new Int32Array(memory.buffer, control, CONTROL_INTS);
    let seen = Atomics.load(ctrl, SEQ);
    port.post("ready");
    for (;;) {
      seen = nextJob(ctrl, seen, spinMs);
      if (!runJob(ctrl, functions, port)) return;
      Atomics.store(ctrl, DONE, seen);
      Atomics.notify(ctrl, DONE);
    }
  });
}

/** What a worker runs: workerMain's own source, called. */
export const workerSource = `(${workerMain.toString()})();`;
