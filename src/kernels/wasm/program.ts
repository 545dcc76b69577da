/**
 * A compiled step on the wasm backend: the recorded program (src/compile/program.ts) lowered to
 * the kernels themselves, on buffers planned ahead, as a graph of units that every thread works on
 * at once.
 *
 * Lowering happens on the program's first run, which it also is: each recorded call runs through
 * the backend with the step's own buffers (made once, for the program's life), and the steps it
 * runs (steps.ts: a kernel's jobs, or host code) are kept, every one a unit. A unit depends on the
 * units that last wrote what it reads, and on those that read or wrote what it overwrites; the
 * units of one call run in order; host values and effects run in the order the step made them.
 *
 * Every later run is the graph alone: no op is planned, nothing is allocated, no JavaScript of the
 * step runs but its host values and effects. This thread releases the units whose inputs are
 * ready, runs host units itself, and puts kernel jobs in a task queue that it and the worker
 * threads take from (threads.ts): independent ops — the weight gradient and the input gradient of
 * a layer, the updates of ten parameters — run side by side, and a worker the operating system
 * has put aside holds up only the job it has, not the step. A run on this thread alone (a machine
 * too busy for sharing to pay, share-choice.ts) needs none of that: the units go in order.
 */
import { type FusedGroup, fuse } from "../../compile/fuse.ts";
import type { Program } from "../../compile/program.ts";
import type { MatmulShape, Storage } from "../backend.ts";
import type { SpareBlocks, WasmBackend } from "./backend.ts";
import { fusedKernels, fusible } from "./fused.ts";
import { MR, matmulJobLayout, NR } from "./kernels-matmul.ts";
import { sizeClass } from "./pool.ts";
import { ShareChoice } from "./share-choice.ts";
import type { Step } from "./steps.ts";
import { bytesPer, type WasmStorage } from "./storage.ts";
import {
  QUEUE_ARGS,
  QUEUE_DONE,
  QUEUE_HEAD,
  QUEUE_HEADER_INTS,
  QUEUE_JOBS,
  QUEUE_ORDER,
  QUEUE_STATE,
  QUEUE_TAIL,
} from "./threads.ts";

/** A unit of the graph: host code (this thread only), or a kernel's jobs (any thread). */
interface Unit {
  host: (() => void) | null;
  /** Its jobs' numbers in the job table. */
  jobs: number[];
  /** The units that wait for this one. */
  dependents: number[];
  /** How many units this one waits for. */
  waitsFor: number;
}

interface Job {
  unit: number;
  name: string;
  kernel: (...args: number[]) => unknown;
  args: number[];
}

/**
 * At most the bytes that lowering `program` takes from the pool for the program's life, on `threads`
 * threads: a block for every value it makes or holds (results, host values, inputs, constants), and
 * each matmul job's packing scratch with both operands whole; plus 64 bytes a call and 1 MiB for the
 * small scratch of other kernels and the task queue. An over-estimate (fused groups make one value
 * for several, and a job packs only its share of one operand): where it does not fit, the backend
 * replays the program call by call instead, which frees each value after its last use as an eager
 * step does. The check comes before the first replay, since that replay is the lowering, and a
 * lowering that ran out of memory halfway would have run half of the step's host effects.
 */
export function loweringBytes(program: Program, threads: number): number {
  let bytes = 2 ** 20 + 64 * program.calls.length;
  for (const v of program.values)
    if (v.source.kind !== "state") bytes += sizeClass(v.size * bytesPer(v.dtype));
  for (const call of program.calls) {
    if (call.kind !== "backend" || call.method !== "matmul") continue;
    const { batch, m, k, n } = (call.args[2] as { literal: MatmulShape }).literal;
    const [mPanels, nPanels] = [Math.ceil(m / MR), Math.ceil(n / NR)];
    const job = matmulJobLayout(k, mPanels, nPanels, Math.max(mPanels, nPanels)).bytes;
    bytes += batch * threads * sizeClass(job);
  }
  return bytes;
}

export class WasmProgram {
  private units: Unit[] = [];
  private jobs: Job[] = [];
  /** The storage each value of the program is, once lowered. */
  private storages: (WasmStorage | undefined)[] = [];
  /** The task queue (threads.ts), as an integer index into the memory (its storage is owned). */
  private queue = 0;
  /** What the program owns for its life: input and host buffers, constants, results, scratch. */
  private owned = new Set<WasmStorage>();
  /** This call's inputs, for the units that copy them in. */
  private inputs: readonly Storage[] = [];
  private epoch = 0;
  /** The bookkeeping of a shared run, made at the first. */
  private bookkeeping: SharedRunState | null = null;
  /** The elementwise groups run as one generated kernel each (compile/fuse.ts). */
  private groups: FusedGroup[] = [];
  /** How many results the memory plan put in a buffer freed by an earlier one (see lower). */
  private reused = 0;
  /** Whether a run shares its jobs with the workers or runs them alone here (share-choice.ts). */
  private readonly sharing = new ShareChoice();
  private lowered = false;

  constructor(
    private readonly backend: WasmBackend,
    private readonly program: Program,
  ) {}

  /** Run the step on `inputs` (one storage per input); the storages of its results, fresh. */
  run(inputs: readonly Storage[]): Storage[] {
    this.inputs = inputs;
    if (this.lowered) this.runGraph();
    else this.lower();
    const { outputs } = this.program;
    return outputs.flatMap((o) =>
      "value" in o ? [this.backend.copy(this.storages[o.value] as WasmStorage)] : [],
    );
  }

  /** What lowering made of the program: its units and jobs, the fused groups, the memory it holds. */
  describe(): string {
    if (!this.lowered) return "wasm: lowered at the first replay";
    let bytes = 0;
    for (const s of this.owned) bytes += s.size * bytesPer(s.dtype);
    const hostUnits = this.units.filter((u) => u.host !== null).length;
    const lines = [
      `lowered on wasm: ${this.units.length} units (${hostUnits} of host code on this thread, the rest ${this.jobs.length} kernel jobs any thread may take), ${(bytes / 1024).toFixed(1)} KiB of buffers planned once and reused every call (${this.reused} results in the buffer of one whose last use came before)`,
      `fused: ${this.groups.length} groups of elementwise ops, each one generated kernel`,
      ...this.groups.map(
        (g) =>
          `  ops ${g.calls.map((c) => c + 1).join(", ")} → v${g.result} (${g.size} numbers): ${g.ops.map((o) => o.op).join(", ")}`,
      ),
    ];
    return lines.join("\n");
  }

  // --- lowering (the first run) ---------------------------------------------------------------

  private lower(): void {
    const { backend, program } = this;
    const { values, calls } = program;
    const own = (s: Storage) => {
      this.owned.add(s as WasmStorage);
      return s as WasmStorage;
    };
    this.storages = values.map((v) => {
      const s = v.source;
      if (s.kind === "state") return s.storage as WasmStorage;
      if (s.kind === "constant") return own(backend.fromArray(s.values));
      if (s.kind === "input" || s.kind === "host") return own(backend.fill(v.size, 0, v.dtype));
      return undefined;
    });
    // Dependencies, by buffer (a value's block of memory, which a later value may reuse): the unit
    // that last wrote it, and the units that read it since.
    const writer = new Map<number, number>();
    const readers = new Map<number, number[]>();
    const blockOf = (v: number) => (this.storages[v] as WasmStorage).block.address;
    let lastHost = -1;
    /**
     * Add a call's units (run already), depending on what it reads and writes: values, and its
     * scratch (which may be a block that an earlier value had).
     */
    const addCall = (
      units: Unit[],
      readValues: number[],
      writeValues: number[],
      host = false,
      scratch: WasmStorage[] = [],
    ): void => {
      if (units.length === 0) return;
      const reads = readValues.map(blockOf);
      const writes = [...writeValues.map(blockOf), ...scratch.map((s) => s.block.address)];
      const first = this.units.length;
      const deps = new Set<number>();
      for (const b of reads) if (writer.has(b)) deps.add(writer.get(b) as number);
      for (const b of writes) {
        if (writer.has(b)) deps.add(writer.get(b) as number);
        for (const r of readers.get(b) ?? []) deps.add(r);
      }
      if (host && lastHost >= 0) deps.add(lastHost);
      units.forEach((u, i) => {
        const id = first + i;
        for (const d of i === 0 ? deps : [id - 1]) {
          this.units[d].dependents.push(id);
          u.waitsFor++;
        }
        this.units.push(u);
      });
      const last = this.units.length - 1;
      for (const b of reads) readers.set(b, [...(readers.get(b) ?? []), last]);
      for (const b of writes) {
        writer.set(b, last);
        readers.set(b, []);
      }
      if (host) lastHost = last;
    };
    const hostUnit = (run: () => void): Unit => {
      run();
      return { host: run, jobs: [], dependents: [], waitsFor: 0 };
    };
    // Fused groups: every call of one but its root is left out; the root runs the group's kernel.
    this.groups = fuse(program, fusible);
    const kernels = fusedKernels(this.groups, (v) => values[v].size, backend.wasmMemory);
    const inGroup = new Map<number, number>();
    this.groups.forEach((g, i) => {
      for (const c of g.calls) inGroup.set(c, i);
    });
    // The memory plan: after the last call that runs and uses a result (a fused group runs at its
    // root, its last call), the result's buffer is spare, and a later allocation of its size class
    // takes it over (collectSteps) — as an eager step frees each value when done, but planned once.
    // Spare buffers stay the program's, never the pool's: every replay still uses them. Dependencies
    // by buffer order the later user after every use of the earlier one.
    const runsAt = (c: number) => {
      const g = inGroup.get(c);
      return g === undefined ? c : this.groups[g].calls[this.groups[g].calls.length - 1];
    };
    const lastRun = new Map<number, number>();
    calls.forEach((call, at) => {
      const used =
        call.kind === "backend"
          ? [...call.args.flatMap((a) => ("value" in a ? [a.value] : [])), ...call.writes]
          : call.kind === "host"
            ? [call.value]
            : [];
      if (call.kind === "backend" && call.result !== null) used.push(call.result);
      for (const v of used) lastRun.set(v, Math.max(lastRun.get(v) ?? -1, runsAt(at)));
    });
    const kept = new Set(program.outputs.flatMap((o) => ("value" in o ? [o.value] : [])));
    const freedAfter = new Map<number, number[]>();
    for (const [v, at] of lastRun)
      if (values[v].source.kind === "result" && !kept.has(v))
        freedAfter.set(at, [...(freedAfter.get(at) ?? []), v]);
    const spare: SpareBlocks = new Map();
    const freeAfter = (at: number) => {
      for (const v of freedAfter.get(at) ?? []) {
        const storage = this.storages[v];
        if (storage === undefined) continue; // a fused group's inner value: never made
        const size = sizeClass(storage.size * bytesPer(storage.dtype));
        spare.set(size, [...(spare.get(size) ?? []), storage]);
      }
    };
    /** Run `make` through the backend, taking spare blocks; what it allocates is the program's. */
    const collect = <T>(make: () => T) => {
      const made = backend.collectSteps(make, spare);
      for (const s of made.owned) this.owned.add(s);
      for (const s of made.reused) this.owned.delete(s);
      this.reused += made.reused.length;
      return made;
    };

    values.forEach((v) => {
      if (v.source.kind !== "input") return;
      const [index, buffer] = [v.source.index, this.storages[v.id] as WasmStorage];
      addCall([hostUnit(() => backend.write(buffer, this.inputs[index]))], [], [v.id]);
    });
    calls.forEach((call, at) => {
      const group = inGroup.get(at);
      if (group !== undefined) {
        const g = this.groups[group];
        if (at !== g.calls[g.calls.length - 1]) return;
        const out = own(collect(() => backend.fill(g.size, 0, "float32")).result);
        this.storages[g.result] = out;
        const addresses = [...g.leaves, g.result].map((v) => (this.storages[v] as WasmStorage).block.address);
        const kernel = kernels[group];
        addCall([hostUnit(() => kernel(...addresses, g.size))], g.leaves, [g.result]);
        freeAfter(at);
      } else if (call.kind === "effect") {
        addCall([hostUnit(call.effect)], [], [], true);
      } else if (call.kind === "host") {
        const source = values[call.value].source;
        if (source.kind !== "host") throw new Error("wasm program: a host call without a host value");
        const buffer = this.storages[call.value] as WasmStorage;
        addCall([hostUnit(() => backend.viewOf(buffer).set(source.make()))], [], [call.value], true);
      } else {
        const args = call.args.map((a) => ("value" in a ? this.storages[a.value] : a.literal));
        const method = (backend as unknown as Record<string, (...a: unknown[]) => unknown>)[call.method];
        const { result, steps, owned } = collect(() => method.apply(backend, args));
        if (call.result !== null) this.storages[call.result] = own(result as Storage);
        const reads = call.args.flatMap((a) => ("value" in a ? [a.value] : []));
        const writes = [...call.writes, ...(call.result === null ? [] : [call.result])];
        addCall(
          steps.map((step, i) => this.unitOf(step, this.units.length + i)),
          reads,
          writes,
          false,
          owned,
        );
        freeAfter(at);
      }
    });
    this.writeQueue();
    this.lowered = true;
  }

  /** Unit number `unit`, for one step of an op; its jobs enter the job table. */
  private unitOf(step: Step, unit: number): Unit {
    if ("host" in step) return { host: step.host, jobs: [], dependents: [], waitsFor: 0 };
    const kernel = this.backend.kernel(step.kernel);
    const jobs = step.jobs.map((args) => this.jobs.push({ unit, name: step.kernel, kernel, args }) - 1);
    return { host: null, jobs, dependents: [], waitsFor: 0 };
  }

  /** The task queue in memory: header, job table (kernel number, argument count, first argument), order, done marks, arguments. */
  private writeQueue(): void {
    const { jobs } = this;
    const argCount = jobs.reduce((n, j) => n + j.args.length, 0);
    const ints = QUEUE_HEADER_INTS + 3 * jobs.length + 2 * jobs.length + argCount;
    const storage = this.backend.fill(ints, 0, "float32") as WasmStorage;
    this.owned.add(storage);
    const q = storage.block.address / 4;
    const I = this.backend.memoryInts();
    const [table, order, done, args] = [
      q + QUEUE_HEADER_INTS,
      q + QUEUE_HEADER_INTS + 3 * jobs.length,
      q + QUEUE_HEADER_INTS + 4 * jobs.length,
      q + QUEUE_HEADER_INTS + 5 * jobs.length,
    ];
    I[q + QUEUE_JOBS] = table;
    I[q + QUEUE_ORDER] = order;
    I[q + QUEUE_DONE] = done;
    I[q + QUEUE_ARGS] = args;
    let at = 0;
    jobs.forEach((job, j) => {
      I[table + 3 * j] = this.backend.kernelNumber(job.name);
      I[table + 3 * j + 1] = job.args.length;
      I[table + 3 * j + 2] = at;
      I.set(job.args, args + at);
      at += job.args.length;
    });
    this.queue = q;
  }

  // --- later runs -----------------------------------------------------------------------------

  private runGraph(): void {
    const choosing = this.jobs.length > 0 && this.backend.hasWorkers();
    const shared = choosing && this.sharing.next();
    const started = performance.now();
    if (shared) this.runShared();
    else this.runAlone();
    if (choosing) this.sharing.record(shared, performance.now() - started);
  }

  /**
   * Every unit on this thread, in the order lowering made them: a unit comes after every unit it
   * waits for, so the order needs no bookkeeping at all.
   */
  private runAlone(): void {
    const { jobs } = this;
    for (const unit of this.units) {
      if (unit.host !== null) unit.host();
      else for (const j of unit.jobs) jobs[j].kernel(...jobs[j].args);
    }
  }

  /**
   * The units shared with the workers, as they become ready (see the top of the file). Its
   * bookkeeping lives in arrays made once (SharedRunState), so a run allocates nothing.
   */
  private runShared(): void {
    const { units, jobs } = this;
    const run = this.bookkeeping ?? this.sharedRunState();
    const q = this.queue;
    const I = this.backend.memoryInts();
    const order = I[q + QUEUE_ORDER];
    const done = I[q + QUEUE_DONE];
    this.epoch = (this.epoch % 0x3fffffff) + 1;
    const epoch = this.epoch;
    // Tail before head: a worker still polling the last run that sees the new head sees the new
    // tail too, so it can never claim a slot this run has not published.
    Atomics.store(I, q + QUEUE_TAIL, 0);
    Atomics.store(I, q + QUEUE_HEAD, 0);
    Atomics.store(I, q + QUEUE_STATE, epoch);
    const { waitsFor, remaining, hostReady, outstanding } = run;
    waitsFor.set(run.firstWaits);
    remaining.set(run.firstRemaining);
    let [hostHead, hostTail, outstandingCount, tail, finished] = [0, 0, 0, 0, 0];
    const release = (u: number): void => {
      const unit = units[u];
      if (unit.host !== null) hostReady[hostTail++] = u;
      else if (unit.jobs.length === 0) finish(u);
      else
        for (const j of unit.jobs) {
          I[order + tail++] = j;
          outstanding[outstandingCount++] = j;
        }
    };
    const finish = (u: number): void => {
      finished++;
      for (const d of units[u].dependents) if (--waitsFor[d] === 0) release(d);
    };
    try {
      for (const u of run.roots) release(u);
      Atomics.store(I, q + QUEUE_TAIL, tail);
      this.backend.startProgram(q, epoch);
      while (finished < units.length) {
        let worked = hostHead < hostTail;
        if (worked) {
          const host = hostReady[hostHead++];
          (units[host].host as () => void)();
          finish(host);
        } else {
          // A job from the queue, as the workers take them; then whatever has finished anywhere.
          const head = Atomics.load(I, q + QUEUE_HEAD);
          if (head < tail && Atomics.compareExchange(I, q + QUEUE_HEAD, head, head + 1) === head) {
            const j = I[order + head];
            jobs[j].kernel(...jobs[j].args);
            I[done + j] = epoch;
            worked = true;
          }
        }
        // Nothing for this thread: everything left waits on jobs a worker holds.
        if (!worked) this.backend.waitForWorkers(I, done, outstanding, outstandingCount, epoch);
        for (let k = outstandingCount - 1; k >= 0; k--) {
          const j = outstanding[k];
          const mark = Atomics.load(I, done + j);
          if (mark === -1) throw new Error("wasm backend: a kernel failed on a worker thread");
          if (mark !== epoch) continue;
          outstanding[k] = outstanding[--outstandingCount];
          if (--remaining[jobs[j].unit] === 0) finish(jobs[j].unit);
        }
        Atomics.store(I, q + QUEUE_TAIL, tail);
      }
    } finally {
      Atomics.store(I, q + QUEUE_STATE, 0);
    }
  }

  /** The arrays a shared run keeps its bookkeeping in, made at the first. */
  private sharedRunState(): SharedRunState {
    const { units, jobs } = this;
    this.bookkeeping = {
      firstWaits: Int32Array.from(units, (u) => u.waitsFor),
      firstRemaining: Int32Array.from(units, (u) => u.jobs.length),
      roots: Int32Array.from(units.flatMap((u, i) => (u.waitsFor === 0 ? [i] : []))),
      waitsFor: new Int32Array(units.length),
      remaining: new Int32Array(units.length),
      hostReady: new Int32Array(units.length),
      outstanding: new Int32Array(jobs.length),
    };
    return this.bookkeeping;
  }
}

/**
 * A shared run's bookkeeping: per unit, how many units it still waits for and how many of its
 * jobs are not done (with their values at the start of a run), the units that wait for none, the
 * host units ready to run (each is released once a run), and the jobs handed out and not yet seen done.
 */
interface SharedRunState {
  firstWaits: Int32Array;
  firstRemaining: Int32Array;
  roots: Int32Array;
  waitsFor: Int32Array;
  remaining: Int32Array;
  hostReady: Int32Array;
  outstanding: Int32Array;
}
