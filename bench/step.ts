/**
 * One VAE training step exactly as `npm run train:mnist` runs it (src/vae/train.ts trainStep:
 * 784–200–10 encoder, reparameterize, decoder, BCE + KL, backward, Adam, all in one scope that
 * frees the step's tensors), in milliseconds per batch of 128, on each of our CPU backends, next
 * to the same step written in TensorFlow.js (cpu and wasm backends) in the same run. An epoch of
 * MNIST is 469 such steps.
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import { Generator } from "../src/autograd/random.ts";
import type { Backend } from "../src/kernels/backend.ts";
import { cpuBackend, getBackend, setBackend } from "../src/kernels/registry.ts";
import { Adam } from "../src/nn/optim/adam.ts";
import { BernoulliVAE } from "../src/vae/model.ts";
import { trainStep } from "../src/vae/train.ts";
import type { BenchOptions, BenchSection, BenchTable } from "./table.ts";
import { measure } from "./timing.ts";
import { loadTfjs, useTfjs, wasmBackends } from "./wasm.ts";

const BATCH = 128;
const PIXELS = 784;
const HIDDEN = 200;
const LATENT = 10;
const STEPS_PER_EPOCH = Math.ceil(60000 / BATCH);
/** A few fixed batches of MNIST-like pixels in [0, 1], cycled through. */
const BATCHES = 4;

export function batches(): Float32Array[] {
  const g = new Generator(7);
  return Array.from({ length: BATCHES }, () => {
    const x = new Float32Array(BATCH * PIXELS);
    // Mostly background with some ink, like a digit.
    for (let i = 0; i < x.length; i++) x[i] = g.uniform() < 0.8 ? 0 : g.uniform();
    return x;
  });
}

export interface StepTiming {
  firstMs: number;
  medianMs: number;
}

/** Our training step on `backend`, the one the training loop runs: first call and median ms. */
export async function ourStep(backend: Backend, data: Float32Array[], quick: boolean): Promise<StepTiming> {
  const previous = getBackend();
  setBackend(backend);
  try {
    const generator = new Generator(1);
    const model = new BernoulliVAE(
      { inputDim: PIXELS, latentDim: LATENT, encUnits: HIDDEN, decUnits: HIDDEN },
      { generator },
    );
    const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
    let s = 0;
    const step = async () => {
      const terms = trainStep(model, optimizer, data[s++ % data.length], generator);
      const loss = await terms[0].data();
      for (const t of terms) t.dispose();
      if (!Number.isFinite(loss[0])) throw new Error(`bench step: loss ${loss[0]} on ${backend.name}`);
    };
    const t0 = performance.now();
    await step();
    const firstMs = performance.now() - t0;
    const t = await measure(step, {
      warmup: quick ? 3 : 20,
      minReps: quick ? 5 : 30,
      minTimeMs: quick ? 200 : 3000,
    });
    return { firstMs, medianMs: t.medianMs };
  } finally {
    setBackend(previous);
  }
}

/** The same step in TensorFlow.js: same layers, same loss, tf.train.adam. */
async function tfjsStep(tf: typeof tfTypes, data: Float32Array[], quick: boolean): Promise<StepTiming> {
  const init = (shape: [number, number] | [number], fanIn: number) =>
    tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), "float32", 1));
  const layer = (inputs: number, outputs: number) => ({
    w: init([outputs, inputs], inputs),
    b: init([outputs], inputs),
  });
  const fc1 = layer(PIXELS, HIDDEN);
  const fcMu = layer(HIDDEN, LATENT);
  const fcLogvar = layer(HIDDEN, LATENT);
  const fc3 = layer(LATENT, HIDDEN);
  const fc4 = layer(HIDDEN, PIXELS);
  const linear = (x: tfTypes.Tensor2D, l: { w: tfTypes.Variable; b: tfTypes.Variable }) =>
    tf.add(tf.matMul(x, l.w as tfTypes.Tensor2D, false, true), l.b) as tfTypes.Tensor2D;
  const optimizer = tf.train.adam(1e-3);
  const xs = data.map((d) => tf.tensor2d(d, [BATCH, PIXELS]));
  let s = 0;
  const step = () => {
    const x = xs[s++ % xs.length];
    const cost = optimizer.minimize(() => {
      const h = tf.relu(linear(x, fc1));
      const mu = linear(h, fcMu);
      const logvar = linear(h, fcLogvar);
      const z = tf.add(
        mu,
        tf.mul(tf.exp(tf.mul(logvar, 0.5)), tf.randomNormal([BATCH, LATENT])),
      ) as tfTypes.Tensor2D;
      const logits = linear(tf.relu(linear(z, fc3)), fc4);
      const bce = tf.sum(tf.sub(tf.softplus(logits), tf.mul(x, logits)));
      const kl = tf.mul(tf.sum(tf.sub(tf.sub(tf.add(logvar, 1), tf.square(mu)), tf.exp(logvar))), -0.5);
      return tf.add(bce, kl) as tfTypes.Scalar;
    }, true);
    if (cost === null || !Number.isFinite(cost.dataSync()[0]))
      throw new Error("bench step: tfjs loss is not finite");
    cost.dispose();
  };
  const t0 = performance.now();
  step();
  const firstMs = performance.now() - t0;
  const t = await measure(step, {
    warmup: quick ? 1 : 5,
    minReps: quick ? 3 : 10,
    minTimeMs: quick ? 200 : 3000,
  });
  optimizer.dispose();
  tf.dispose([...xs, ...[fc1, fcMu, fcLogvar, fc3, fc4].flatMap((l) => [l.w, l.b])]);
  return { firstMs, medianMs: t.medianMs };
}

async function run(options: BenchOptions): Promise<BenchTable[]> {
  const tf = await loadTfjs();
  const data = batches();
  const { one, all } = await wasmBackends();
  const results: { label: string; timing: StepTiming }[] = [];
  try {
    const n = all.threadCount;
    results.push({ label: "cpu (plain TS)", timing: await ourStep(cpuBackend(), data, options.quick) });
    results.push({ label: "wasm×1", timing: await ourStep(one, data, options.quick) });
    results.push({ label: `wasm×${n}`, timing: await ourStep(all, data, options.quick) });
    const pool = all.poolInfo();
    await useTfjs("wasm");
    results.push({ label: "tfjs-wasm", timing: await tfjsStep(tf, data, options.quick) });
    await useTfjs("cpu");
    results.push({ label: "tfjs-cpu", timing: await tfjsStep(tf, data, options.quick) });
    const cpuMs = results[0].timing.medianMs;
    const tfWasmMs = results[3].timing.medianMs;
    return [
      {
        title: `VAE training step (784–200–10, batch ${BATCH}, Adam): ms per step, median (lower is better)`,
        columns: ["backend", "first step ms", "ms/step", "s/epoch (469 steps)", "vs cpu", "vs tfjs-wasm"],
        rows: results.map(({ label, timing }) => [
          label,
          timing.firstMs,
          timing.medianMs,
          (timing.medianMs * STEPS_PER_EPOCH) / 1000,
          `${(cpuMs / timing.medianMs).toFixed(1)}× faster`,
          `${(tfWasmMs / timing.medianMs).toFixed(1)}× faster`,
        ]),
        notes: [
          "Each step: trainStep of src/vae/train.ts (forward, backward, Adam, in one scope), then read the loss.",
          "The PyTorch reference (one thread, same model) runs an epoch in ≈2.2 s on a machine like this one (not measured here).",
          `wasm×${all.threadCount} as is, after its steps: ${(pool.reserved / 2 ** 20).toFixed(1)} MiB of memory taken, ${(pool.free / 2 ** 20).toFixed(1)} MiB of it free for reuse.`,
        ],
      },
    ];
  } finally {
    await all.terminate();
  }
}

export const stepSection: BenchSection = { name: "step", run };
