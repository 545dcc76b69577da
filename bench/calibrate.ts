/**
 * The SIMD128 ceiling of this machine, measured: a WebAssembly kernel that does nothing but
 * f32x4 multiply-adds on registers (8 independent accumulators, as many as the matmul's
 * micro-kernel keeps, no memory traffic), timed on one thread. A matmul's GFLOP/s next to this
 * number says how close it comes to what WebAssembly SIMD can do here at all.
 *
 * And the machine's own parallel ceiling: the same kernel on two threads at once, each with its own
 * work and nothing shared, against one thread alone. Two real cores give 2×; two hyperthreads of
 * one core, or virtual cores whose host is busy, give less, and then no program's two-thread
 * speed-up can pass that figure.
 */

import { Worker } from "node:worker_threads";
import { encodeModule, ValType } from "../src/kernels/wasm/encoding.ts";
import { FunctionBuilder, f32x4, get, i32, set, v128 } from "../src/kernels/wasm/instructions.ts";
import { WebAssemblyApi } from "../src/kernels/wasm/wasm-api.ts";
import { measure, median } from "./timing.ts";

const ACCUMULATORS = 8;

/**
 * calibrate(iterations): acc_i = acc_i + acc_i·c on `accumulators` vectors (8 unless given),
 * `iterations` times; with `fused`, each multiply-add is relaxed SIMD's one instruction (as the
 * matmul uses where the engine has it).
 */
function calibrationModule(fused: boolean, accumulators = ACCUMULATORS): Uint8Array {
  const f = new FunctionBuilder("calibrate", [ValType.i32]);
  const iterations = f.param(ValType.i32);
  const acc = Array.from({ length: accumulators }, () => f.local(ValType.v128));
  const c = f.local(ValType.v128);
  const body = f.finish(
    set(c, v128.f32x4(0.999)),
    acc.map((a, i) => set(a, v128.f32x4(1 + i))),
    f.while(
      () => i32.gtS(get(iterations), i32.const(0)),
      () => [
        acc.map((a) =>
          set(
            a,
            fused ? f32x4.relaxedMadd(get(a), get(c), get(a)) : f32x4.add(get(a), f32x4.mul(get(a), get(c))),
          ),
        ),
        set(iterations, i32.sub(get(iterations), i32.const(1))),
      ],
    ),
    // Return something that depends on every accumulator, so that none is optimized away.
    v128.anyTrue(acc.map((a) => get(a)).reduce((x, y) => f32x4.add(x, y))),
  );
  return encodeModule([body], { initialPages: 1, maximumPages: 1, shared: false });
}

/** The calibration kernel, ready to call with an iteration count. */
async function calibrationKernel(
  fused: boolean,
  accumulators = ACCUMULATORS,
): Promise<(iterations: number) => number> {
  const memory = new WebAssemblyApi.Memory({ initial: 1, maximum: 1 });
  const module = await WebAssemblyApi.compile(calibrationModule(fused, accumulators));
  const { exports } = await WebAssemblyApi.instantiate(module, { env: { memory } });
  return (exports as { calibrate: (n: number) => number }).calibrate;
}

/**
 * GFLOP/s of SIMD128 multiply-adds on one thread (a multiply and an add: 8 flops per vector), on
 * `accumulators` independent vectors: too few leave the multiply-add units waiting on each result.
 */
export async function simd128Gflops(
  quick: boolean,
  fused = false,
  accumulators = ACCUMULATORS,
): Promise<number> {
  const kernel = await calibrationKernel(fused, accumulators);
  const iterations = 1_000_000;
  const t = await measure(() => kernel(iterations), {
    warmup: 3,
    minReps: quick ? 5 : 20,
    minTimeMs: quick ? 100 : 500,
  });
  return (iterations * accumulators * 8) / (t.minMs * 1e6);
}

/**
 * A worker thread that, for each block the main thread starts (cell 0 moves on; -1 stops it), runs
 * the calibration kernel for as long as cell 1 is 1, then puts its count of calls in cell 2 and
 * the block's number in cell 3.
 */
const workerSource = `
const { workerData, parentPort } = require("node:worker_threads");
const { bytes, signal, iterations } = workerData;
const cells = new Int32Array(signal);
const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
  env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 1 }) },
});
parentPort.postMessage("ready");
for (let seen = 0; ; ) {
  Atomics.wait(cells, 0, seen);
  seen = Atomics.load(cells, 0);
  if (seen < 0) break;
  let calls = 0;
  while (Atomics.load(cells, 1) === 1) {
    exports.calibrate(iterations);
    calls++;
  }
  Atomics.store(cells, 2, calls);
  Atomics.store(cells, 3, seen);
  Atomics.notify(cells, 3);
}
`;

/**
 * How many times one thread's throughput two threads get here now: the calibration kernel run
 * without pause on this thread alone, then on this thread and a worker at once, in blocks of
 * `blockMs` (long enough for a host's CPU quota, if the machine has one, to bite), alternately for
 * `ms` milliseconds; the median over the rounds of the pair's calls per second over one thread's.
 * With `fused`, the kernel's multiply-adds are relaxed SIMD's (as the matmul's, where it has them).
 */
export async function twoThreadCeiling(ms = 1500, blockMs = 250, fused = false): Promise<number> {
  const iterations = 500_000; // under a millisecond a call
  const kernel = await calibrationKernel(fused);
  const signal = new SharedArrayBuffer(16);
  const cells = new Int32Array(signal);
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: { bytes: calibrationModule(fused), signal, iterations },
  });
  /** The kernel called without pause on this thread for blockMs: how many calls, in how many ms. */
  const block = (): { calls: number; ms: number } => {
    const start = performance.now();
    let calls = 0;
    while (performance.now() - start < blockMs) {
      kernel(iterations);
      calls++;
    }
    return { calls, ms: performance.now() - start };
  };
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", reject);
    });
    kernel(iterations); // compiled and warm
    const ratios: number[] = [];
    for (let round = 1, start = performance.now(); round <= 2 || performance.now() - start < ms; round++) {
      const alone = block();
      Atomics.store(cells, 1, 1);
      Atomics.store(cells, 0, round);
      Atomics.notify(cells, 0);
      const mine = block();
      Atomics.store(cells, 1, 0);
      while (Atomics.load(cells, 3) !== round) Atomics.wait(cells, 3, Atomics.load(cells, 3), 1);
      const both = mine.calls + Atomics.load(cells, 2);
      ratios.push(both / mine.ms / (alone.calls / alone.ms));
    }
    return median(ratios);
  } finally {
    Atomics.store(cells, 0, -1);
    Atomics.notify(cells, 0);
    await worker.terminate();
  }
}
