/**
 * Matmul GFLOP/s at the VAE's shapes, in every transpose variant, for each backend against a
 * naive triple loop measured in the same run.
 */
import type { Backend, TypedArray } from "../src/kernels/backend.ts";
import { cpuBackend } from "../src/kernels/registry.ts";
import type { BenchOptions, BenchSection, BenchTable } from "./table.ts";
import { gflops, measure } from "./timing.ts";

/** (m, k, n) of the VAE's layers (784–200–10, batch 128), forward shapes; backward uses the transposes. */
export const vaeShapes: [number, number, number][] = [
  [128, 784, 200],
  [128, 200, 784],
  [128, 200, 10],
  [128, 10, 200],
];

export const variants: { label: string; transA: boolean; transB: boolean }[] = [
  { label: "A·B", transA: false, transB: false },
  { label: "A·Bᵀ", transA: false, transB: true },
  { label: "Aᵀ·B", transA: true, transB: false },
  { label: "Aᵀ·Bᵀ", transA: true, transB: true },
];

/** The textbook i-j-p loop over strided reads: the baseline every backend is compared with. */
export function naiveMatmul(
  a: TypedArray,
  b: TypedArray,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  out: TypedArray,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[transA ? p * m + i : i * k + p] * b[transB ? j * k + p : p * n + j];
      out[i * n + j] = s;
    }
  }
}

export function randomArray(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x / 4294967296 - 0.5;
  }
  return out;
}

/** Repetitions for a kernel timing: a quick look, or enough for a stable median. */
export function timingOptions(quick: boolean) {
  return { minTimeMs: quick ? 50 : 400, minReps: quick ? 3 : 7 };
}

/**
 * Median GFLOP/s of `backend.matmul` on one shape and variant. On a synchronous backend the work is
 * done when matmul returns; an asynchronous one is awaited through a read of the result. Results
 * are not copied out otherwise: a fresh copy per call lets the GC's pauses into the timing.
 */
export async function backendGflops(
  backend: Backend,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
  quick: boolean,
): Promise<number> {
  const a = backend.fromArray(randomArray(m * k, 1));
  const b = backend.fromArray(randomArray(k * n, 2));
  const t = await measure(async () => {
    const c = backend.matmul(a, b, { batch: 1, m, k, n, transA, transB });
    if (backend.asyncRead) await backend.read(c);
    backend.dispose(c);
  }, timingOptions(quick));
  backend.dispose(a);
  backend.dispose(b);
  return gflops(m, k, n, t.medianMs);
}

async function run(options: BenchOptions): Promise<BenchTable[]> {
  const cpu = cpuBackend();
  const rows: (string | number)[][] = [];
  const shapes: [number, number, number][] = [...vaeShapes, [512, 512, 512]];
  for (const [m, k, n] of shapes) {
    for (const v of variants) {
      const a = randomArray(m * k, 1);
      const b = randomArray(k * n, 2);
      const out = new Float32Array(m * n);
      const naive = await measure(() => naiveMatmul(a, b, m, k, n, v.transA, v.transB, out), {
        minTimeMs: options.quick ? 50 : 400,
        minReps: options.quick ? 1 : 5,
        warmup: 1,
      });
      const naiveG = gflops(m, k, n, naive.medianMs);
      const cpuG = await backendGflops(cpu, m, k, n, v.transA, v.transB, options.quick);
      rows.push([`${m}×${k}·${k}×${n}`, v.label, naiveG, cpuG, `${(cpuG / naiveG).toFixed(1)}×`]);
    }
  }
  return [
    {
      title: "matmul GFLOP/s (float32; median of repetitions)",
      columns: ["shape (m×k·k×n)", "variant", "naive loop", "cpu", "cpu / naive"],
      rows,
      notes: ["naive loop: i-j-p triple loop over Float32Array, measured in this run as the baseline."],
    },
  ];
}

export const matmulSection: BenchSection = { name: "matmul", run };
