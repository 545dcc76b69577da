/**
 * `npx tsx bench/profile.ts [--steps N] [--threads N] [--sparse-zeros X] [--top N] [--eager]`: where
 * the time of a training epoch goes, on the wasm backend. Trains the reference VAE (the defaults of
 * `npm run train:mnist`: the compiled step, or with --eager the step run op by op) on MNIST for N
 * steps (default a whole epoch, 469) under V8's sampling profiler, in this process, and sorts the
 * main thread's samples into
 *   matmul       the matmul kernels (packing and the micro-kernel: pack_*, matmul_block)
 *   elementwise  every other kernel (elementwise maps, reductions, the fused Adam)
 *   waiting      waiting for the worker threads, timed by the backend (Threads.waitedMs): V8 inlines
 *                the poll into its caller, so samples alone would put part of it under host
 *   gc           the garbage collector
 *   host         everything else: building the graph, autograd, the training loop, JavaScript
 * Workers are not sampled: while the main thread waits, they run their share of the kernels.
 * --top N also lists the N functions with the most samples of their own.
 */
import { Session } from "node:inspector";
import { Generator } from "../src/autograd/random.ts";
import { compile } from "../src/compile/compile.ts";
import { setBackend } from "../src/kernels/registry.ts";
import { createWasmBackend } from "../src/kernels/wasm/create.ts";
import { enableRelaxedSimd } from "../src/kernels/wasm/node-flags.ts";
import { Adam } from "../src/nn/optim/adam.ts";
import { loadMnist } from "../src/train-mnist/data.ts";
import { BernoulliVAE } from "../src/vae/model.ts";
import { stepOf, trainEpoch } from "../src/vae/train.ts";
import { benchFlags, numberFlag } from "./flags.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const usage = "npx tsx bench/profile.ts [--steps N] [--threads N] [--sparse-zeros X] [--top N] [--eager]";

export type Category = "matmul" | "elementwise" | "waiting" | "gc" | "idle" | "host";

/** The category of a sampled function. */
export function categorize(frame: ProfileNode["callFrame"]): Category {
  const name = frame.functionName;
  if (frame.url.startsWith("wasm://")) return /^(pack_|matmul_)/.test(name) ? "matmul" : "elementwise";
  if (/\/kernels\/wasm\/threads\.ts$/.test(frame.url)) return "waiting";
  if (name === "(garbage collector)") return "gc";
  if (name === "(idle)" || name === "(program)") return "idle";
  return "host";
}

/**
 * The samples of the training itself: each with its node's call frame, without those taken inside
 * the inspector (stopping the profiler serializes it on this thread, some 30 ms that are not training).
 */
function trainingSamples(profile: Profile): { frame: ProfileNode["callFrame"]; ms: number }[] {
  const parent = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const inInspector = (n: ProfileNode | undefined): boolean =>
    n !== undefined && (n.callFrame.url.startsWith("node:inspector") || inInspector(parent.get(n.id)));
  return profile.samples.flatMap((id, i) => {
    const node = nodes.get(id);
    return node === undefined || inInspector(node)
      ? []
      : [{ frame: node.callFrame, ms: profile.timeDeltas[i] / 1000 }];
  });
}

/** Milliseconds of samples per category. */
export function split(profile: Profile): Record<Category, number> {
  const ms: Record<Category, number> = { matmul: 0, elementwise: 0, waiting: 0, gc: 0, idle: 0, host: 0 };
  for (const { frame, ms: t } of trainingSamples(profile)) ms[categorize(frame)] += t;
  return ms;
}

/** Milliseconds of own samples per function, most first. */
function selfTimes(profile: Profile): [string, number][] {
  const ms = new Map<string, number>();
  for (const { frame, ms: t } of trainingSamples(profile)) {
    const key = `${categorize(frame).padEnd(11)} ${frame.functionName || "(anonymous)"}  ${frame.url.split("/").slice(-2).join("/")}`;
    ms.set(key, (ms.get(key) ?? 0) + t);
  }
  return [...ms.entries()].sort((a, b) => b[1] - a[1]);
}

async function main(): Promise<void> {
  const flags = benchFlags("bench profile", usage, {
    steps: { type: "string" },
    threads: { type: "string" },
    "sparse-zeros": { type: "string" },
    top: { type: "string" },
    eager: { type: "boolean" },
  });
  const threads = numberFlag("bench profile", "threads", flags.threads);
  const sparseZeros = numberFlag("bench profile", "sparse-zeros", flags["sparse-zeros"], {
    min: 0,
    fractional: true,
  });
  enableRelaxedSimd(); // as the trainer does
  const backend = await createWasmBackend({ threads, sparseZeros });
  setBackend(backend);
  const train = loadMnist("train");
  const steps = numberFlag("bench profile", "steps", flags.steps) ?? Math.ceil(train.count / 128);
  const data = { ...train, count: Math.min(train.count, steps * 128) };
  const generator = new Generator(0);
  const model = new BernoulliVAE(
    { inputDim: 784, latentDim: 10, encUnits: 200, decUnits: 200 },
    { generator },
  );
  const optimizer = new Adam(model.parameters(), { lr: 0.01 });
  const eager = stepOf(model, optimizer, generator);
  const step = flags.eager ? eager : compile(eager);
  const options = { epoch: 1, batchSize: 128, generator, step };
  // A short epoch first, so that V8 has compiled everything before the profile starts.
  await trainEpoch(model, optimizer, { ...train, count: 20 * 128 }, options);

  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post("Profiler.enable");
  await post("Profiler.setSamplingInterval", { interval: 100 });
  await post("Profiler.start");
  const waitedBefore = backend.waitedMs;
  const result = await trainEpoch(model, optimizer, data, options);
  const { profile } = (await post("Profiler.stop")) as { profile: Profile };
  const waited = backend.waitedMs - waitedBefore;
  session.disconnect();
  const threadCount = backend.threadCount;
  await backend.terminate();

  const ms = split(profile);
  // The timed wait replaces the sampled one; what the samples put elsewhere was host (the caller).
  ms.host = Math.max(0, ms.host - (waited - ms.waiting));
  ms.waiting = waited;
  const total = Object.values(ms).reduce((a, b) => a + b, 0);
  console.log(
    `wasm×${threadCount}, ${step === eager ? "eager" : "compiled"}, ${steps} steps: ${result.seconds.toFixed(2)} s (${((1000 * result.seconds) / steps).toFixed(2)} ms/step, loss ${result.loss.toFixed(2)})`,
  );
  console.log("main thread   ms      share");
  for (const [category, value] of Object.entries(ms)) {
    console.log(
      `${category.padEnd(12)} ${value.toFixed(0).padStart(6)}  ${((100 * value) / total).toFixed(1).padStart(5)}%`,
    );
  }
  const top = numberFlag("bench profile", "top", flags.top, { min: 0 }) ?? 0;
  if (top > 0) {
    console.log(`\ntop ${top} functions by own samples (ms, category, function, file)`);
    for (const [name, value] of selfTimes(profile).slice(0, top))
      console.log(`${value.toFixed(0).padStart(6)}  ${name}`);
  }
}

await main();
