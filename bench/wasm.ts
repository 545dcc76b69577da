/**
 * The CPU backends side by side in one run: matmul GFLOP/s at the VAE's shapes in every transpose
 * variant, and elementwise throughput at the VAE's largest activation (128×784), for
 *   cpu        the plain TypeScript backend (the reference)
 *   wasm×1     the WebAssembly SIMD backend on one thread
 *   wasm×N     the same on every core (ELBO_THREADS to change)
 *   tfjs-cpu   TensorFlow.js 4.22's JavaScript backend
 *   tfjs-wasm  TensorFlow.js 4.22's WebAssembly backend (XNNPACK, SIMD; single-threaded in Node)
 * All five are synchronous: when a call returns, its result is complete in memory. So calls are
 * timed without copying results out into fresh JavaScript arrays — that copy costs every backend
 * the same, and its garbage makes V8 collect now and then, adding milliseconds of noise.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import type { Backend, BinaryOp, Storage, UnaryOp } from "../src/kernels/backend.ts";
import { cpuBackend } from "../src/kernels/registry.ts";
import type { WasmBackend } from "../src/kernels/wasm/backend.ts";
import { createWasmBackend } from "../src/kernels/wasm/create.ts";
import { backendGflops, randomArray, timingOptions, vaeShapes, variants } from "./matmul.ts";
import { zeroSkippingTable } from "./sparse.ts";
import type { BenchOptions, BenchSection, BenchTable } from "./table.ts";
import { gflops, measure } from "./timing.ts";

/** TensorFlow.js with its cpu and wasm backends registered; the wasm files come from node_modules. */
export async function loadTfjs(): Promise<typeof tf> {
  // tfjs-core's Node build registers no gradients (its own registration module only loads through
  // a bundler); the union package's Node build registers them on the same tfjs-core.
  await import("@tensorflow/tfjs");
  await import("@tensorflow/tfjs-backend-cpu");
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(
    `${join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist")}/`,
  );
  return tf;
}

export async function useTfjs(name: "cpu" | "wasm"): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tfjs: backend ${name} did not load`);
  await tf.ready();
}

/** Our two wasm configurations: one thread, and every thread the machine (or ELBO_THREADS) gives. */
export async function wasmBackends(): Promise<{ one: WasmBackend; all: WasmBackend }> {
  const one = await createWasmBackend({ threads: 1 });
  const all = await createWasmBackend();
  return { one, all };
}

async function tfjsGflops(
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  quick: boolean,
): Promise<number> {
  const a = tf.tensor2d(randomArray(m * k, 1), transA ? [k, m] : [m, k]);
  const b = tf.tensor2d(randomArray(k * n, 2), transB ? [n, k] : [k, n]);
  const t = await measure(() => tf.matMul(a, b, transA, transB).dispose(), timingOptions(quick));
  a.dispose();
  b.dispose();
  return gflops(m, k, n, t.medianMs);
}

/** The shapes of one training step's matmuls: the forward ones, and the weight gradients' (k = batch). */
const stepShapes: [number, number, number][] = [...vaeShapes, [200, 128, 784], [784, 128, 200]];

/**
 * A few calls of every shape and variant on every backend before anything is timed, so that each
 * is measured with its optimized code (V8 compiles WebAssembly and JavaScript in tiers, in the
 * background) rather than whichever comes first paying for the compilation.
 */
async function warmUp(ours: { backend: Backend }[]): Promise<void> {
  for (const [m, k, n] of stepShapes) {
    for (const v of variants) {
      for (const { backend } of ours) await backendGflops(backend, m, k, n, v.transA, v.transB, true);
    }
  }
}

async function matmulTable(ours: { label: string; backend: Backend }[], quick: boolean): Promise<BenchTable> {
  await warmUp(ours);
  const rows: (string | number)[][] = [];
  for (const [m, k, n] of stepShapes) {
    for (const v of variants) {
      const row: (string | number)[] = [`${m}×${k}·${k}×${n}`, v.label];
      for (const { backend } of ours)
        row.push(await backendGflops(backend, m, k, n, v.transA, v.transB, quick));
      await useTfjs("cpu");
      row.push(await tfjsGflops(m, k, n, v.transA, v.transB, quick));
      await useTfjs("wasm");
      const tfWasm = await tfjsGflops(m, k, n, v.transA, v.transB, quick);
      row.push(tfWasm);
      const best = Number(row[ours.length + 1]);
      row.push(`${(best / tfWasm).toFixed(1)}×`);
      rows.push(row);
    }
  }
  return {
    title: "matmul GFLOP/s: our CPU backends against TensorFlow.js (float32; median of repetitions)",
    columns: [
      "shape (m×k·k×n)",
      "variant",
      ...ours.map((o) => o.label),
      "tfjs-cpu",
      "tfjs-wasm",
      `${ours[ours.length - 1].label} / tfjs-wasm`,
    ],
    rows,
    notes: [
      "The last two shapes are the weight gradients of the 784–200 layers (k = batch 128).",
      "tfjs-wasm is XNNPACK with SIMD, single-threaded (tfjs has no threads in Node).",
    ],
  };
}

/** An elementwise case on our backends: a function of the prepared inputs, and its tfjs twin. */
interface ElementwiseCase {
  label: string;
  ours: (b: Backend, x: Storage, y: Storage, bias: Storage) => Storage;
  tfjs: (x: tf.Tensor2D, y: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor;
}

const [ROWS, COLS] = [128, 784];
const shape = [ROWS, COLS];
const unaryCase = (op: UnaryOp, f: (x: tf.Tensor) => tf.Tensor): ElementwiseCase => ({
  label: op,
  ours: (b, x) => b.unary(op, x),
  tfjs: (x) => f(x),
});
const binaryCase = (op: BinaryOp, f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor): ElementwiseCase => ({
  label: `${op} (same shape)`,
  ours: (b, x, y) => b.binary(op, x, shape, y, shape, shape),
  tfjs: (x, y) => f(x, y),
});

const elementwiseCases: ElementwiseCase[] = [
  unaryCase("relu", tf.relu),
  unaryCase("exp", tf.exp),
  unaryCase("sigmoid", tf.sigmoid),
  unaryCase("softplus", tf.softplus),
  binaryCase("add", tf.add),
  binaryCase("mul", tf.mul),
  {
    label: "add bias row (broadcast)",
    ours: (b, x, _y, bias) => b.binary("add", x, shape, bias, [COLS], shape),
    tfjs: (x, _y, bias) => tf.add(x, bias),
  },
  {
    label: "sum over batch (axis 0)",
    ours: (b, x) => b.reduce("sum", x, shape, [0]),
    tfjs: (x) => tf.sum(x, 0),
  },
  { label: "sum of all", ours: (b, x) => b.reduce("sum", x, shape, [0, 1]), tfjs: (x) => tf.sum(x) },
];

async function elementwiseTable(
  ours: { label: string; backend: Backend }[],
  quick: boolean,
): Promise<BenchTable> {
  const x0 = randomArray(ROWS * COLS, 3);
  const y0 = randomArray(ROWS * COLS, 4);
  const b0 = randomArray(COLS, 5);
  const rows: (string | number)[][] = [];
  const perElement = (ms: number) => (ROWS * COLS) / (ms * 1e6); // elements per ms → billions per second
  for (const c of elementwiseCases) {
    const row: (string | number)[] = [c.label];
    for (const { backend } of ours) {
      const [x, y, bias] = [backend.fromArray(x0), backend.fromArray(y0), backend.fromArray(b0)];
      const t = await measure(() => backend.dispose(c.ours(backend, x, y, bias)), timingOptions(quick));
      row.push(perElement(t.medianMs));
      for (const s of [x, y, bias]) backend.dispose(s);
    }
    for (const name of ["cpu", "wasm"] as const) {
      await useTfjs(name);
      const [x, y, bias] = [tf.tensor2d(x0, [ROWS, COLS]), tf.tensor2d(y0, [ROWS, COLS]), tf.tensor1d(b0)];
      const t = await measure(() => c.tfjs(x, y, bias).dispose(), timingOptions(quick));
      row.push(perElement(t.medianMs));
      tf.dispose([x, y, bias]);
    }
    rows.push(row);
  }
  return {
    title: `elementwise and reductions on ${ROWS}×${COLS} float32: billions of input elements per second (higher is better)`,
    columns: ["op", ...ours.map((o) => o.label), "tfjs-cpu", "tfjs-wasm"],
    rows,
    notes: ["Each call includes allocating its output; results are not copied out (see the file's comment)."],
  };
}

async function run(options: BenchOptions): Promise<BenchTable[]> {
  await loadTfjs();
  const { one, all } = await wasmBackends();
  try {
    const ours = [
      { label: "cpu", backend: cpuBackend() as Backend },
      { label: "wasm×1", backend: one as Backend },
      { label: `wasm×${all.threadCount}`, backend: all as Backend },
    ];
    return [
      await matmulTable(ours, options.quick),
      await elementwiseTable(ours, options.quick),
      await zeroSkippingTable(options.quick),
    ];
  } finally {
    await all.terminate();
  }
}

export const wasmSection: BenchSection = { name: "wasm", run };
