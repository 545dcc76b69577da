/**
 * One VAE training step exactly as `npm run train:mnist` runs it (src/vae/train.ts stepOf:
 * 784–200–10 encoder, reparameterize, decoder, BCE + KL, backward, Adam, all in one scope that
 * frees the step's tensors; compiled, as train:mnist runs it, and op by op, as --eager does), in
 * milliseconds per batch of 128 MNIST images, on each of our CPU backends, next to the same step
 * written in jax-js (jit) and TensorFlow.js (cpu and wasm backends) in the same run. An epoch of
 * MNIST is 469 such steps.
 *
 * Then the scaling table: ms per step as the batch and the hidden layer grow, with the GFLOP/s of
 * each large matmul of the step next to the SIMD128 ceiling measured in the same run.
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import { Generator } from "../src/autograd/random.ts";
import type { Tensor } from "../src/autograd/tensor.ts";
import { compile } from "../src/compile/compile.ts";
import type { Backend } from "../src/kernels/backend.ts";
import { cpuBackend, getBackend, setBackend } from "../src/kernels/registry.ts";
import type { WasmBackend } from "../src/kernels/wasm/backend.ts";
import { Adam } from "../src/nn/optim/adam.ts";
import { gatherImages, loadMnist } from "../src/train-mnist/data.ts";
import { BernoulliVAE } from "../src/vae/model.ts";
import { stepOf, trainStep } from "../src/vae/train.ts";
import { simd128Gflops, twoThreadCeiling } from "./calibrate.ts";
import { jaxStep } from "./jax.ts";
import type { BenchOptions, BenchSection, BenchTable } from "./table.ts";
import { tfjsVae } from "./tfjs-vae.ts";
import { firstAndMedian, gflops, measure, median, type StepTiming } from "./timing.ts";
import { loadTfjs, useTfjs, wasmBackends } from "./wasm.ts";

const BATCH = 128;
const PIXELS = 784;
export const HIDDEN = 200;
const LATENT = 10;
const STEPS_PER_EPOCH = Math.ceil(60000 / BATCH);
/** A few fixed batches of real MNIST images (about 81% zeros), cycled through. */
const BATCHES = 4;

/** The batches a step trains on, and noise ε for the peers that take it as an argument. */
export interface BenchData {
  batches: Float32Array[];
  noise: Float32Array[];
}

export function benchData(batch = BATCH): BenchData {
  const train = loadMnist("train", { limit: BATCHES * batch });
  const g = new Generator(7);
  return {
    batches: Array.from({ length: BATCHES }, (_, b) =>
      gatherImages(
        train,
        Int32Array.from({ length: batch }, (_, i) => b * batch + i),
      ),
    ),
    noise: Array.from({ length: BATCHES }, () =>
      Float32Array.from({ length: batch * LATENT }, () => g.normal()),
    ),
  };
}

/**
 * Our training step on `backend`, the one the training loop runs (a fresh model, batches cycled,
 * the loss read back): a function that runs `stepsPerRead` steps and then reads their losses, as
 * the training loop does (every step on the CPU backends, every 20 on the gpu), each call on
 * `backend` whatever is current.
 */
export function ourStepper(
  backend: Backend,
  data: Float32Array[],
  hidden: number,
  compiled: boolean,
  stepsPerRead = 1,
) {
  const previous = getBackend();
  setBackend(backend);
  try {
    const generator = new Generator(1);
    const model = new BernoulliVAE(
      { inputDim: PIXELS, latentDim: LATENT, encUnits: hidden, decUnits: hidden },
      { generator },
    );
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    const eager = stepOf(model, optimizer, generator);
    const work = compiled ? compile(eager) : eager;
    let s = 0;
    return async () => {
      const before = getBackend();
      setBackend(backend);
      const steps: Tensor[][] = [];
      try {
        for (let i = 0; i < stepsPerRead; i++)
          steps.push(trainStep(model, optimizer, data[s++ % data.length], generator, undefined, work));
        for (const terms of steps) {
          const loss = await terms[0].data();
          if (!Number.isFinite(loss[0])) throw new Error(`bench step: loss ${loss[0]} on ${backend.name}`);
        }
      } finally {
        for (const t of steps.flat()) t.dispose();
        setBackend(before);
      }
    };
  } finally {
    setBackend(previous);
  }
}

/** Our training step on `backend`: first call and median ms. */
export async function ourStep(
  backend: Backend,
  data: Float32Array[],
  quick: boolean,
  hidden = HIDDEN,
  compiled = false,
): Promise<StepTiming> {
  return firstAndMedian(ourStepper(backend, data, hidden, compiled), {
    warmup: quick ? 3 : 20,
    minReps: quick ? 5 : 30,
    minTimeMs: quick ? 200 : 3000,
  });
}

/**
 * Two threads against one on the compiled step, alternating: rounds of `steps` steps on wasm×1,
 * then as many on wasm×N, each with its own model, so that both see the same machine; beside the
 * machine's own two-thread ceiling, `ceiling` (bench/calibrate.ts, measured right after the rounds).
 * A machine whose speed wanders (a shared host) moves both halves of a round together, so the
 * ratio within a round is the figure.
 */
async function alternatingRounds(one: WasmBackend, all: WasmBackend, data: Float32Array[], quick: boolean) {
  const rounds = quick ? 3 : 7;
  const steps = quick ? 20 : 60;
  const steppers = [one, all].map((b) => ourStepper(b, data, HIDDEN, true));
  // Warm: compiled (each program records twice, then lowers) and through V8's tiers.
  for (const step of steppers) for (let i = 0; i < 30; i++) await step();
  const rows: (string | number)[][] = [];
  const ratios: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const ms: number[] = [];
    for (const step of steppers) {
      const t = await measure(step, { warmup: 0, minReps: steps, maxReps: steps, minTimeMs: 0 });
      ms.push(t.medianMs);
    }
    ratios.push(ms[0] / ms[1]);
    rows.push([String(r), ms[0], ms[1], `${(ms[0] / ms[1]).toFixed(2)}×`]);
  }
  return { rows, ratios };
}

function alternatingTable(
  all: WasmBackend,
  { rows, ratios }: Awaited<ReturnType<typeof alternatingRounds>>,
  ceiling: number,
  quick: boolean,
): BenchTable {
  const steps = quick ? 20 : 60;
  return {
    title: `Threads on the compiled step: wasm×1 and wasm×${all.threadCount} in alternating rounds of ${steps} steps, median ms/step`,
    columns: ["round", "wasm×1", `wasm×${all.threadCount}`, "speed-up"],
    rows,
    notes: [
      `Median speed-up over the rounds: ${median(ratios).toFixed(2)}×. The machine's own two-thread ceiling, measured right after (the SIMD kernel on two threads at once against one, nothing shared: bench/calibrate.ts): ${ceiling.toFixed(2)}×.`,
    ],
  };
}

/** The same step in TensorFlow.js: same layers, same loss, tf.train.adam. */
async function tfjsStep(tf: typeof tfTypes, data: Float32Array[], quick: boolean): Promise<StepTiming> {
  const vae = tfjsVae(tf, { batch: BATCH, pixels: PIXELS, hidden: HIDDEN, latent: LATENT });
  const xs = data.map((d) => tf.tensor2d(d, [BATCH, PIXELS]));
  let s = 0;
  const step = () => {
    const cost = vae.step(xs[s++ % xs.length]);
    if (!Number.isFinite(cost.dataSync()[0])) throw new Error("bench step: tfjs loss is not finite");
    cost.dispose();
  };
  const timing = await firstAndMedian(step, {
    warmup: quick ? 1 : 5,
    minReps: quick ? 3 : 10,
    minTimeMs: quick ? 200 : 3000,
  });
  vae.dispose();
  tf.dispose(xs);
  return timing;
}

async function run(options: BenchOptions): Promise<BenchTable[]> {
  const tf = await loadTfjs();
  const data = benchData();
  const { one, all } = await wasmBackends();
  const results: { label: string; timing: StepTiming }[] = [];
  try {
    const n = all.threadCount;
    results.push({
      label: "cpu (plain TS)",
      timing: await ourStep(cpuBackend(), data.batches, options.quick),
    });
    results.push({ label: "wasm×1", timing: await ourStep(one, data.batches, options.quick) });
    results.push({ label: `wasm×${n}`, timing: await ourStep(all, data.batches, options.quick) });
    results.push({
      label: "wasm×1 compiled",
      timing: await ourStep(one, data.batches, options.quick, HIDDEN, true),
    });
    results.push({
      label: `wasm×${n} compiled`,
      timing: await ourStep(all, data.batches, options.quick, HIDDEN, true),
    });
    const pool = all.poolInfo();
    const sizes = { batch: BATCH, pixels: PIXELS, hidden: HIDDEN, latent: LATENT };
    results.push({ label: "jax-js (wasm, jit)", timing: await jaxStep(data, options.quick, sizes) });
    await useTfjs("wasm");
    results.push({ label: "tfjs-wasm", timing: await tfjsStep(tf, data.batches, options.quick) });
    await useTfjs("cpu");
    results.push({ label: "tfjs-cpu", timing: await tfjsStep(tf, data.batches, options.quick) });
    // Ours once more at the end, so that a machine that got busier or quieter meanwhile shows.
    const again = await ourStep(all, data.batches, options.quick, HIDDEN, true);
    const rounds = await alternatingRounds(one, all, data.batches, options.quick);
    // Measured once, right after the rounds, for them and for the scaling table.
    const ceiling = await twoThreadCeiling(options.quick ? 500 : 1500, 250, all.relaxedSimd);
    const ms = (label: string) => results.find((r) => r.label === label)?.timing.medianMs ?? Number.NaN;
    const cpuMs = ms("cpu (plain TS)");
    const jaxMs = ms("jax-js (wasm, jit)");
    const tfWasmMs = ms("tfjs-wasm");
    const ratio = (base: number, ms: number) =>
      base >= ms ? `${(base / ms).toFixed(1)}× faster` : `${(ms / base).toFixed(1)}× slower`;
    return [
      {
        title: `VAE training step (784–200–10, batch ${BATCH} of MNIST, Adam): ms per step, median (lower is better)`,
        columns: [
          "backend",
          "first step ms",
          "ms/step",
          "s/epoch (469 steps)",
          "vs cpu",
          "vs jax-js",
          "vs tfjs-wasm",
        ],
        rows: results.map(({ label, timing }) => [
          label,
          timing.firstMs,
          timing.medianMs,
          (timing.medianMs * STEPS_PER_EPOCH) / 1000,
          ratio(cpuMs, timing.medianMs),
          ratio(jaxMs, timing.medianMs),
          ratio(tfWasmMs, timing.medianMs),
        ]),
        notes: [
          "Each step: stepOf of src/vae/train.ts (forward, backward, Adam, in one scope), then read the loss; compiled: recorded once and replayed (src/compile), as train:mnist runs it.",
          "jax-js: the same model with forward, valueAndGrad and Adam under one jit (bench/jax.ts); tfjs: optimizer.minimize.",
          `wasm matmul with fused multiply-adds (relaxed SIMD): ${all.relaxedSimd ? "on" : "off, this engine lacks it"}.`,
          `wasm×${n} compiled measured again after the peers: ${again.medianMs.toFixed(2)} ms/step (a different figure means the machine's load changed).`,
          "The native anchor, PyTorch on OpenBLAS, is timed by bench/anchor.ts (a whole epoch, alternating with train:mnist).",
          `wasm×${n} as is, after its steps: ${(pool.reserved / 2 ** 20).toFixed(1)} MiB of memory taken, ${(pool.free / 2 ** 20).toFixed(1)} MiB of it free for reuse.`,
        ],
      },
      alternatingTable(all, rounds, ceiling, options.quick),
      await scalingTable(all, ceiling, options.quick),
    ];
  } finally {
    await all.terminate();
  }
}

/**
 * ms per step on wasm×N for batch × hidden, and the GFLOP/s of the step's large matmuls at that
 * size (on the same MNIST batches: the first layer's two products skip the batch's zeros, so
 * their GFLOP/s count the dense product's flops), next to the SIMD128 ceiling on one thread and
 * `parallel`, the machine's two-thread ceiling measured for the alternating rounds.
 */
async function scalingTable(backend: WasmBackend, parallel: number, quick: boolean): Promise<BenchTable> {
  const ceiling = await simd128Gflops(quick);
  const fusedCeiling = backend.relaxedSimd ? await simd128Gflops(quick, true) : null;
  const threads = backend.threadCount;
  const rows: (string | number)[][] = [];
  const batchSizes = quick ? [32, 128] : [32, 128, 512];
  const hiddenSizes = quick ? [200] : [200, 1000];
  for (const batch of batchSizes) {
    const data = benchData(batch);
    for (const hidden of hiddenSizes) {
      const timing = await ourStep(backend, data.batches, true, hidden);
      // The step's large products: forward x·W1ᵀ (zeros of x skipped), h'·W4ᵀ, the gradients
      // G·W4 and G4ᵀ·h', and G1ᵀ·x (zeros of x skipped).
      const x = backend.fromArray(data.batches[0]);
      const dense = (r: number, c: number, seed: number) =>
        backend.fromArray(Float32Array.from({ length: r * c }, (_, i) => Math.sin(i * 0.37 + seed)));
      const [w1, h, w4, g4, g1] = [
        dense(hidden, PIXELS, 1),
        dense(batch, hidden, 2),
        dense(PIXELS, hidden, 3),
        dense(batch, PIXELS, 4),
        dense(batch, hidden, 5),
      ];
      const shapes: [string, () => void, number, number, number][] = [
        [
          "x·W1ᵀ",
          () =>
            backend.dispose(
              backend.matmul(x, w1, {
                batch: 1,
                m: batch,
                k: PIXELS,
                n: hidden,
                transA: false,
                transB: true,
              }),
            ),
          batch,
          PIXELS,
          hidden,
        ],
        [
          "h·W4ᵀ",
          () =>
            backend.dispose(
              backend.matmul(h, w4, {
                batch: 1,
                m: batch,
                k: hidden,
                n: PIXELS,
                transA: false,
                transB: true,
              }),
            ),
          batch,
          hidden,
          PIXELS,
        ],
        [
          "G·W4",
          () =>
            backend.dispose(
              backend.matmul(g4, w4, {
                batch: 1,
                m: batch,
                k: PIXELS,
                n: hidden,
                transA: false,
                transB: false,
              }),
            ),
          batch,
          PIXELS,
          hidden,
        ],
        [
          "Gᵀ·h",
          () =>
            backend.dispose(
              backend.matmul(g4, h, {
                batch: 1,
                m: PIXELS,
                k: batch,
                n: hidden,
                transA: true,
                transB: false,
              }),
            ),
          PIXELS,
          batch,
          hidden,
        ],
        [
          "Gᵀ·x",
          () =>
            backend.dispose(
              backend.matmul(g1, x, {
                batch: 1,
                m: hidden,
                k: batch,
                n: PIXELS,
                transA: true,
                transB: false,
              }),
            ),
          hidden,
          batch,
          PIXELS,
        ],
      ];
      const perShape: number[] = [];
      let matmulMs = 0;
      for (const [, fn, m, k, n] of shapes) {
        const t = await measure(fn, { warmup: 3, minReps: quick ? 5 : 20, minTimeMs: quick ? 50 : 300 });
        perShape.push(gflops(m, k, n, t.medianMs));
        matmulMs += t.medianMs;
      }
      for (const s of [x, w1, h, w4, g4, g1]) backend.dispose(s);
      rows.push([
        String(batch),
        String(hidden),
        timing.medianMs,
        `${((100 * matmulMs) / timing.medianMs).toFixed(0)}%`,
        ...perShape,
      ]);
    }
  }
  return {
    title: `Scaling on wasm×${threads}: ms per training step by batch and hidden size; GFLOP/s of the step's large matmuls`,
    columns: ["batch", "hidden", "ms/step", "large matmuls' share", "x·W1ᵀ", "h·W4ᵀ", "G·W4", "Gᵀ·h", "Gᵀ·x"],
    rows,
    notes: [
      `SIMD128 ceiling measured in this run: ${ceiling.toFixed(1)} GFLOP/s on one thread (f32x4 multiply-adds on registers, no memory: bench/calibrate.ts).`,
      ...(threads < 2
        ? []
        : [
            `Two threads here give ${parallel.toFixed(2)}× one thread's throughput now (that kernel on two threads at once, nothing shared: bench/calibrate.ts); two real idle cores give 2×.`,
          ]),
      fusedCeiling === null
        ? "Relaxed SIMD is off here (this engine lacks it), so the plain ceiling is the one."
        : `With relaxed SIMD's fused multiply-add (which the matmul uses here): ${fusedCeiling.toFixed(1)} GFLOP/s on one thread.`,
      "x·W1ᵀ and Gᵀ·x take the MNIST batch x, whose all-zero steps the kernel skips: their GFLOP/s count the dense product's flops, so they may pass the ceiling.",
      "Share: the five large matmuls timed alone, summed, over the step's time; the rest is elementwise work, reductions, Adam, the host and waiting.",
    ],
  };
}

export const stepSection: BenchSection = { name: "step", run };
