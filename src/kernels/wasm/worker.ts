/**
 * The worker side of threads.ts. A worker instantiates the backend's WebAssembly module over the
 * same shared memory as the main thread, then waits for jobs in its control block (a few integers
 * in that memory) and runs them: the main thread writes a kernel's number and arguments, bumps the
 * job counter, and this loop sees it, calls the kernel, and publishes the counter back as done.
 *
 * The worker is built into the module as the source text below, which spawn.ts starts from a data:
 * URL in Node and a Blob URL in a page: there is no file for a bundler to find or for a user to
 * copy, and no build tool or test runner can rewrite it (as they would a function's own source).
 * It is plain JavaScript that Node and browsers both run as it is; the layout constants must match
 * threads.ts. A post of kernel PROGRAM asks it to take jobs from a program's task queue instead,
 * until that run is over (see threads.ts). The loop is split into small functions because V8 optimizes a function after it has
 * been called a few times, but a loop that never returns only much later.
 */
export const workerSource = String.raw`const SEQ = 0; // job counter, bumped by the main thread
const DONE = 1; // last job finished, written here
const SLEEPING = 2; // 1 while this worker blocks in Atomics.wait (so the main thread knows to notify)
const KERNEL = 3; // which kernel to run; -1 means stop
const STATUS = 4; // 0 ok, 1 the kernel threw
const ARGC = 5;
const CLAIMED = 6; // the last job claimed, by this worker or by the main thread (see threads.ts)
const ARGS = 8;
const CONTROL_INTS = 64;
const PROGRAM = -2; // join a program's run: ARGS[0] is its task queue, ARGS[1] the run
// A program's task queue header (threads.ts): the run, claimed, published, then where the job
// table, the queue, the done marks and the arguments are, as integer indices into the memory.
const QUEUE_STATE = 0;
const QUEUE_HEAD = 1;
const QUEUE_TAIL = 2;
const QUEUE_JOBS = 3;
const QUEUE_ORDER = 4;
const QUEUE_DONE = 5;
const QUEUE_ARGS = 6;

/** The channel to the thread that started us: Node's parentPort, or a browser worker's global scope. */
async function channel() {
  if (typeof process === "object" && process.versions?.node) {
    const { parentPort } = await import("node:worker_threads");
    return { post: (m) => parentPort.postMessage(m), once: (fn) => parentPort.once("message", fn) };
  }
  return {
    post: (m) => self.postMessage(m),
    once: (fn) => self.addEventListener("message", (event) => fn(event.data), { once: true }),
  };
}

/**
 * Wait until the job counter moves past seen, and return it. Spin for spinMs first: the next
 * job often comes within microseconds, and waking from Atomics.wait costs tens of them.
 */
function nextJob(ctrl, seen, spinMs) {
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

/**
 * Take jobs from the task queue at integer q until run epoch is over: claim the next published
 * one, run it, mark it done with its run's number (-1 if it failed).
 */
function runProgram(memory, q, epoch, functions, port) {
  const I = new Int32Array(memory.buffer);
  const [jobs, order, done, args] = [I[q + QUEUE_JOBS], I[q + QUEUE_ORDER], I[q + QUEUE_DONE], I[q + QUEUE_ARGS]];
  const argv = [];
  while (Atomics.load(I, q + QUEUE_STATE) === epoch) {
    const head = Atomics.load(I, q + QUEUE_HEAD);
    if (head >= Atomics.load(I, q + QUEUE_TAIL)) continue;
    if (Atomics.compareExchange(I, q + QUEUE_HEAD, head, head + 1) !== head) continue;
    const job = I[order + head];
    const at = jobs + 3 * job;
    argv.length = I[at + 1];
    for (let i = 0; i < argv.length; i++) argv[i] = I[args + I[at + 2] + i];
    let failed = false;
    try {
      functions[I[at]](...argv);
    } catch (error) {
      failed = true;
      port.post({ error: String(error) });
    }
    // Marked with the run now under way, which may be a later one than this loop began in: a
    // claim that raced a new run took a job of that run (and did it); that run cannot end first.
    Atomics.store(I, done + job, failed ? -1 : Atomics.load(I, q + QUEUE_STATE));
  }
}

/** Run the job in the control block; false when it asks us to stop. */
function runJob(ctrl, functions, port, memory) {
  const kernel = ctrl[KERNEL];
  if (kernel === PROGRAM) {
    runProgram(memory, ctrl[ARGS], ctrl[ARGS + 1], functions, port);
    return true;
  }
  if (kernel < 0) return false;
  const args = [];
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
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const functions = kernels.map((name) => instance.exports[name]);
  const ctrl = new Int32Array(memory.buffer, control, CONTROL_INTS);
  let seen = Atomics.load(ctrl, SEQ);
  port.post("ready");
  for (;;) {
    seen = nextJob(ctrl, seen, spinMs);
    // Run the job only if the main thread has not claimed it first: the previous job (claimed by
    // someone, always, before the next is posted) moves on to this one, by one of us only.
    if (Atomics.compareExchange(ctrl, CLAIMED, seen - 1, seen) !== seen - 1) continue;
    if (!runJob(ctrl, functions, port, memory)) return;
    Atomics.store(ctrl, DONE, seen);
    Atomics.notify(ctrl, DONE);
  }
});
`;
