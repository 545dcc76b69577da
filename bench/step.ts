/**
 * One VAE training step, as src/vae/train.ts runs it — 784–200–10 encoder, reparameterize,
 * decoder, BCE + KL, backward, Adam, releaseGraph — in milliseconds per batch of 128, on each of
 * our CPU backends, next to the same step written in TensorFlow.js (cpu and wasm backends) in the
 * same run. An epoch of MNIST is 469 such steps.
 *
 * Rows marked "freed" show the step once every tensor a step makes is freed when the step ends.
 * The engine and optimizers free their own temporaries (scopes), but the previous step's `.grad`
 * (which zeroGrad() only forgets) and the leaves a forward pass makes (ε, scalar constants) are
 * left to the garbage collector — which, for memory outside the JavaScript heap (WebAssembly,
 * GPU), acts only when the event loop turns, so a training loop keeps taking fresh memory. The
 * bench emulates the fix from outside autograd: a backend wrapper records what each step
 * allocates and frees it, keeping parameters and their gradients; its small optimizer calls the
 * fused Backend.adamUpdate, as src/nn's Adam does on backends that have it.
 */
import type * as tfTypes from "@tensorflow/tfjs-core";
import { releaseGraph } from "../src/autograd/engine.ts";
import { Generator } from "../src/autograd/random.ts";
import type { Tensor } from "../src/autograd/tensor.ts";
import { fromTypedArray } from "../src/autograd/tensor.ts";
import type { Backend, Storage } from "../src/kernels/backend.ts";
import { cpuBackend, getBackend, setBackend } from "../src/kernels/registry.ts";
import { Adam } from "../src/nn/optim/adam.ts";
import { BernoulliVAE } from "../src/vae/model.ts";
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

function batches(): Float32Array[] {
  const g = new Generator(7);
  return Array.from({ length: BATCHES }, () => {
    const x = new Float32Array(BATCH * PIXELS);
    // Mostly background with some ink, like a digit.
    for (let i = 0; i < x.length; i++) x[i] = g.uniform() < 0.8 ? 0 : g.uniform();
    return x;
  });
}

interface StepTiming {
  firstMs: number;
  medianMs: number;
}

/** The methods of a Backend that return a new storage. */
const allocating = new Set([
  "fromArray",
  "fill",
  "cast",
  "unary",
  "binary",
  "reduce",
  "broadcastTo",
  "permute",
  "matmul",
  "gatherRows",
  "scatterAddRows",
]);

/** `backend`, with every storage it makes through this wrapper recorded in `made`. */
function recording(backend: Backend, made: Storage[]): Backend {
  return new Proxy(backend, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      if (!allocating.has(String(property))) return value.bind(target);
      return (...args: unknown[]) => {
        const storage = value.apply(target, args) as Storage;
        made.push(storage);
        return storage;
      };
    },
  });
}

/** Adam through Backend.adamUpdate: one pass per parameter, no temporaries (same math as src/nn's Adam). */
class FusedAdam {
  private readonly m: Storage[];
  private readonly v: Storage[];
  private t = 0;
  constructor(
    private readonly params: Tensor[],
    private readonly backend: Backend,
    private readonly lr: number,
  ) {
    this.m = params.map((p) => backend.fill(p.size, 0, p.dtype));
    this.v = params.map((p) => backend.fill(p.size, 0, p.dtype));
  }
  step(): void {
    this.t++;
    this.params.forEach((p, i) => {
      if (p.grad === null) return;
      const hyper = { lr: this.lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: this.t };
      this.backend.adamUpdate!(p.storage, p.grad.storage, this.m[i], this.v[i], hyper);
    });
  }
}

/** Our training step on `backend`; with `freed`, everything a step makes is freed at its end. */
async function ourStep(
  backend: Backend,
  data: Float32Array[],
  quick: boolean,
  freed = false,
): Promise<StepTiming> {
  const previous = getBackend();
  const made: Storage[] = [];
  setBackend(freed ? recording(backend, made) : backend);
  try {
    const generator = new Generator(1);
    const model = new BernoulliVAE(
      { inputDim: PIXELS, latentDim: LATENT, encUnits: HIDDEN, decUnits: HIDDEN },
      { generator },
    );
    const params = model.parameters();
    if (freed && !backend.adamUpdate) throw new Error(`bench step: "freed" needs a backend with adamUpdate`);
    const optimizer = freed ? new FusedAdam(params, backend, 1e-3) : new Adam(params, { lr: 1e-3 });
    made.length = 0; // the parameters live on
    let s = 0;
    const step = async () => {
      if (freed) for (const p of params) p.grad?.dispose();
      const x = fromTypedArray(data[s++ % data.length], [BATCH, PIXELS]);
      const out = model.forward(x, { generator });
      model.zeroGrad();
      out.loss.backward();
      optimizer.step();
      const loss = await out.loss.data();
      if (!Number.isFinite(loss[0])) throw new Error(`bench step: loss ${loss[0]} on ${backend.name}`);
      releaseGraph(out.loss);
      x.dispose();
      if (freed) {
        const keep = new Set<Storage>(
          params.flatMap((p) => (p.grad === null ? [p.storage] : [p.storage, p.grad.storage])),
        );
        for (const storage of made) if (!keep.has(storage)) backend.dispose(storage);
        made.length = 0;
      }
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
    results.push({
      label: "wasm×1, freed",
      timing: await ourStep(one, data, options.quick, true),
    });
    results.push({
      label: `wasm×${n}, freed`,
      timing: await ourStep(all, data, options.quick, true),
    });
    await useTfjs("wasm");
    results.push({ label: "tfjs-wasm", timing: await tfjsStep(tf, data, options.quick) });
    await useTfjs("cpu");
    results.push({ label: "tfjs-cpu", timing: await tfjsStep(tf, data, options.quick) });
    const cpuMs = results[0].timing.medianMs;
    const tfWasmMs = results[5].timing.medianMs;
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
          "Each step: forward, backward, Adam, read the loss, releaseGraph — as src/vae/train.ts does.",
          "“freed”: every tensor a step makes is freed at its end (emulated by the bench; see the file's comment).",
          "The PyTorch reference (one thread, same model) runs an epoch in ≈2.2 s on a machine like this one (not measured here).",
          `wasm×${all.threadCount} as is, after its steps: ${(pool.reserved / 2 ** 20).toFixed(1)} MiB of memory taken, ${(pool.free / 2 ** 20).toFixed(1)} MiB of it free for reuse (the rest waits for the garbage collector).`,
        ],
      },
    ];
  } finally {
    await all.terminate();
  }
}

export const stepSection: BenchSection = { name: "step", run };
