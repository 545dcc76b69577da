/**
 * Running one kernel on several threads at once, over shared WebAssembly memory.
 *
 * Each worker owns a control block of 64 integers at the start of the memory (layout below, shared
 * with worker.ts). To hand out a job the main thread writes the kernel's number and arguments into
 * the block and bumps its job counter; the worker, spinning or asleep on that counter, runs the
 * kernel on its own instance of the module and sets `done` to the counter. Meanwhile the main
 * thread runs its own share, then waits for every worker's `done`.
 *
 * Why not postMessage: a message costs tens of microseconds each way, as long as a small matmul
 * takes; an atomic store seen by a spinning worker costs well under one.
 *
 * Claiming: a job runs on whichever thread claims it first, by moving the block's CLAIMED counter
 * from the previous job's number to its own (one compare-and-swap). The worker claims when it sees
 * the job; the calling thread, once its own share is done, claims every job no worker has started
 * and runs it itself. So a worker the operating system has not scheduled (on a busy machine, with
 * more runnable threads than cores) never holds the step up: at worst it runs as on one thread. A
 * worker still busy with an earlier job is not handed another: the calling thread does that share.
 *
 * Programs (a compiled step, program.ts): the calling thread posts PROGRAM with the address of a
 * task queue, and does not wait. Each worker that takes the post claims jobs from the queue (one
 * compare-and-swap each), runs them and marks them done, until the program's run is over; the
 * calling thread takes jobs from the same queue, and alone decides what becomes ready next. So a
 * worker that falls behind delays only the jobs it holds, and the next run does not wait for it.
 */
import type { Kernels } from "./module.ts";
import { canBlock, spawnWorker, type WorkerHandle } from "./spawn.ts";
import type { WasmMemory, WasmModule } from "./wasm-api.ts";

// Control block layout, in 32-bit integers (must match worker.ts).
const SEQ = 0;
const DONE = 1;
const SLEEPING = 2;
const KERNEL = 3;
const STATUS = 4;
const ARGC = 5;
const CLAIMED = 6;
const ARGS = 8;
export const CONTROL_INTS = 64;
const MAX_ARGS = CONTROL_INTS - ARGS;
export const CONTROL_BYTES = CONTROL_INTS * 4;
/** The kernel number of a post that asks a worker to join a program's run (see Programs above). */
const PROGRAM = -2;

/**
 * A program's task queue header, in 32-bit integers (must match worker.ts): the run it belongs to
 * (0 when none is running), how many jobs are claimed and published so far, and where (as indices
 * into the memory's integers) the job table (kernel, argument count, first argument), the queue of
 * job numbers, the done marks (the run's number, per job; -1 when a job failed) and the arguments are.
 */
export const QUEUE_STATE = 0;
export const QUEUE_HEAD = 1;
export const QUEUE_TAIL = 2;
export const QUEUE_JOBS = 3;
export const QUEUE_ORDER = 4;
export const QUEUE_DONE = 5;
export const QUEUE_ARGS = 6;
export const QUEUE_HEADER_INTS = 8;
/** How long the calling thread polls for a worker to finish before it sleeps, ms. */
const SPIN_MS = 1;

export interface ThreadOptions {
  module: WasmModule;
  memory: WasmMemory;
  /** Workers to start (the calling thread is one more). */
  workers: number;
  /** Where the control blocks start in memory (CONTROL_BYTES each). */
  controlBase: number;
  /** The exports workers may be asked to run. */
  kernels: readonly string[];
  /** How long an idle worker keeps polling for the next job before it sleeps in Atomics.wait, ms. */
  spinMs: number;
}

export class Threads {
  /**
   * Milliseconds the calling thread has spent waiting for workers (eager ops' jobs, programs' runs),
   * timed: a sampling profile would put part of it under the caller, where V8 inlines the poll.
   */
  waitedMs = 0;
  private readonly sent: number[];
  /** Per worker, the last post known to be over: run, or taken back before the worker started it. */
  private readonly settled: number[];
  private readonly blocking = canBlock();

  private constructor(
    private readonly handles: readonly WorkerHandle[],
    private readonly controls: readonly Int32Array[],
    private readonly kernelIds: ReadonlyMap<string, number>,
  ) {
    this.sent = controls.map((c) => Atomics.load(c, SEQ));
    this.settled = this.sent.slice();
  }

  /** Start the workers and wait until each has its instance of the module ready. */
  static async start(options: ThreadOptions): Promise<Threads> {
    const handles: WorkerHandle[] = [];
    const controls: Int32Array[] = [];
    try {
      for (let w = 0; w < options.workers; w++) {
        const control = options.controlBase + w * CONTROL_BYTES;
        controls.push(new Int32Array(options.memory.buffer, control, CONTROL_INTS));
        const handle = await spawnWorker();
        handles.push(handle);
        await new Promise<void>((resolve, reject) => {
          handle.onError(reject);
          handle.onMessage((data) => {
            if (data === "ready") {
              handle.unref();
              resolve();
            } else if (typeof data === "object" && data !== null && "error" in data) {
              console.error(`wasm backend: worker ${w + 1}: ${String((data as { error: unknown }).error)}`);
            }
          });
          handle.postMessage({
            module: options.module,
            memory: options.memory,
            control,
            kernels: options.kernels,
            spinMs: options.spinMs,
          });
        });
      }
    } catch (error) {
      await Promise.all(handles.map((h) => h.terminate()));
      throw error;
    }
    return new Threads(handles, controls, new Map(options.kernels.map((k, i) => [k, i])));
  }

  /** A kernel's number in the list the workers were given (a program's job table names kernels by it). */
  kernelNumber(name: string): number {
    const id = this.kernelIds.get(name);
    if (id === undefined) throw new Error(`wasm backend: ${name} is not a kernel the workers know`);
    return id;
  }

  /** Threads that run jobs: the workers and the calling thread. */
  get count(): number {
    return this.handles.length + 1;
  }

  /**
   * Run `kernel` once per argument list, in parallel: jobs[0] on this thread (through `local`),
   * jobs[1…] on workers 1…; returns when all are done.
   */
  run(kernel: string, local: Kernels, jobs: readonly (readonly number[])[]): void {
    const id = this.kernelIds.get(kernel);
    if (id === undefined) throw new Error(`wasm backend: ${kernel} is not a kernel the workers know`);
    if (jobs.length > this.count)
      throw new Error(`wasm backend: ${jobs.length} jobs for ${this.count} threads`);
    // A worker still busy with an earlier post (a program's run it fell behind on) gets nothing.
    const posted = new Set<number>();
    for (let w = 0; w < jobs.length - 1; w++) {
      if (this.idle(w)) {
        this.post(w, id, jobs[w + 1]);
        posted.add(w);
      }
    }
    const waiting = new Set(posted);
    try {
      local[kernel](...jobs[0]);
      // Every job that no worker has started yet is ours (see Claiming above).
      for (let w = 0; w < jobs.length - 1; w++) {
        if (!posted.has(w) || this.claim(w)) {
          waiting.delete(w);
          local[kernel](...jobs[w + 1]);
        }
      }
    } finally {
      for (const w of waiting) this.wait(w, kernel);
    }
  }

  /**
   * Ask every idle worker to join a program's run: the task queue at integer `queue`, run `epoch`.
   * Returns at once; returns how many workers were asked.
   */
  startProgram(queue: number, epoch: number): number {
    let asked = 0;
    for (let w = 0; w < this.controls.length; w++) {
      if (!this.idle(w)) continue;
      this.post(w, PROGRAM, [queue, epoch]);
      asked++;
    }
    return asked;
  }

  /**
   * Poll until one of the first `count` of a program's `jobs` (those that workers may hold) is
   * marked done in this run (`epoch`), or failed (-1), in the done marks at integer `done`.
   */
  waitForAny(I: Int32Array, done: number, jobs: Int32Array, count: number, epoch: number): void {
    const start = performance.now();
    for (let mark = 0; mark !== epoch && mark !== -1; )
      for (let k = 0; k < count && mark !== epoch && mark !== -1; k++) mark = Atomics.load(I, done + jobs[k]);
    this.waitedMs += performance.now() - start;
  }

  /**
   * Whether worker w may be handed a post: its last one is over (run, or not started and taken back
   * here, so that the worker skips it).
   */
  private idle(w: number): boolean {
    const ctrl = this.controls[w];
    const last = this.sent[w];
    if (this.settled[w] === last || this.claim(w)) return true;
    if (Atomics.load(ctrl, DONE) !== last) return false;
    this.settled[w] = last;
    return true;
  }

  /** Claim worker w's posted job for this thread; false if the worker has claimed it already. */
  private claim(w: number): boolean {
    const job = this.sent[w];
    const claimed = Atomics.compareExchange(this.controls[w], CLAIMED, job - 1, job) === job - 1;
    if (claimed) this.settled[w] = job; // the worker will skip it: the post is over
    return claimed;
  }

  private post(w: number, kernel: number, args: readonly number[]): void {
    if (args.length > MAX_ARGS) throw new Error(`wasm backend: a job takes at most ${MAX_ARGS} arguments`);
    const ctrl = this.controls[w];
    ctrl[KERNEL] = kernel;
    ctrl[ARGC] = args.length;
    ctrl.set(args, ARGS);
    // The atomic add publishes the plain writes above to the worker that reads the counter.
    this.sent[w] = Atomics.add(ctrl, SEQ, 1) + 1;
    if (Atomics.load(ctrl, SLEEPING) === 1) Atomics.notify(ctrl, SEQ);
  }

  private wait(w: number, kernel: string): void {
    const ctrl = this.controls[w];
    const target = this.sent[w];
    this.settled[w] = target;
    const start = performance.now();
    // Poll first (the worker's share is usually about as long as ours); then, if this thread may
    // block, sleep in short slices, woken early by the worker's Atomics.notify.
    while (Atomics.load(ctrl, DONE) !== target) {
      for (let i = 0; i < 256 && Atomics.load(ctrl, DONE) !== target; i++);
      const waited = performance.now() - start;
      if (waited > SPIN_MS && this.blocking) Atomics.wait(ctrl, DONE, Atomics.load(ctrl, DONE), 1);
      if (waited > 60_000) throw new Error(`wasm backend: worker ${w + 1} did not finish ${kernel} in 60 s`);
    }
    this.waitedMs += performance.now() - start;
    if (ctrl[STATUS] !== 0) throw new Error(`wasm backend: ${kernel} failed on worker ${w + 1}`);
  }

  /** Stop every worker. The memory stays usable by the calling thread. */
  async terminate(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.terminate()));
  }
}
