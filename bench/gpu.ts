/**
 * The gpu backend (gpu.js kernels) against the cpu backend, in the same run: matmul at the VAE's
 * shapes in every transpose variant, two elementwise ops at 128×784, and one VAE training step
 * (the training loop's own, bench/step.ts).
 * For each kernel and shape:
 *   first     the first call: gpu.js builds the kernel (translates it, the driver compiles the
 *             shader), runs it, and the result is read back
 *   read      steady state, each call followed by reading its result back to the host
 *   chained   steady state, calls issued back to back with the result left on the device and read
 *             once at the end (how kernels run inside a training step), per call
 * Where no GPU mode works the section says why and moves on.
 */
import type { Backend, Storage } from "../src/kernels/backend.ts";
import { type GpuBackend, loadGpuBackend } from "../src/kernels/gpu/index.ts";
import { cpuBackend } from "../src/kernels/registry.ts";
import { randomArray, vaeShapes, variants } from "./matmul.ts";
import { benchData, ourStep } from "./step.ts";
import type { BenchOptions, BenchSection, BenchTable } from "./table.ts";
import { measure } from "./timing.ts";

const withGpu = [
  "With a GPU: `npm run bench -- --only gpu` runs WebGPU through Dawn's Vulkan, Metal or D3D12 backend.",
  "Another mode: `ELBO_GPU_MODE=headlessgl xvfb-run -a npm run bench -- --only gpu` (needs the native `gl` package built: `npm rebuild gl --foreground-scripts`, several minutes).",
];

interface Timings {
  firstMs: number;
  readMs: number;
  chainedMs: number;
}

/** Time `op` (which makes a storage from fixed inputs) on `backend`: first call, with read-back, chained. */
async function timeOp(backend: Backend, op: () => Storage, quick: boolean): Promise<Timings> {
  const options = { minTimeMs: quick ? 50 : 400, minReps: quick ? 3 : 7 };
  const t0 = performance.now();
  const first = op();
  await backend.read(first);
  const firstMs = performance.now() - t0;
  backend.dispose(first);
  const read = await measure(async () => {
    const out = op();
    await backend.read(out);
    backend.dispose(out);
  }, options);
  const chain = quick ? 4 : 16;
  const chained = await measure(async () => {
    let out = op();
    for (let i = 1; i < chain; i++) {
      backend.dispose(out);
      out = op();
    }
    await backend.read(out);
    backend.dispose(out);
  }, options);
  return { firstMs, readMs: read.medianMs, chainedMs: chained.medianMs / chain };
}

const ratio = (cpuMs: number, gpuMs: number) => `${(cpuMs / gpuMs).toFixed(2)}×`;

/** A table row's timing cells: the gpu's first, read and chained ms, the cpu's ms, and the two ratios. */
function timingCells(g: Timings, c: Timings): (string | number)[] {
  return [
    g.firstMs,
    g.readMs,
    g.chainedMs,
    c.readMs,
    ratio(c.readMs, g.readMs),
    ratio(c.readMs, g.chainedMs),
  ];
}

/**
 * The gpu backend for a section about `what`, or, where no GPU mode works, the section's one table
 * saying so and why.
 */
export async function gpuOrSkipped(what: string): Promise<{ gpu: GpuBackend } | { skipped: BenchTable[] }> {
  try {
    return { gpu: await loadGpuBackend() };
  } catch (error) {
    return {
      skipped: [
        {
          title: `${what}: not measured`,
          columns: ["backend", "status"],
          rows: [["gpu", "skipped: no GPU mode works here (why below)"]],
          notes: [(error as Error).message, ...withGpu],
        },
      ],
    };
  }
}

/** The note under every table of a gpu on a software renderer, which says nothing of a real GPU. */
export function softwareCaveat(gpu: GpuBackend): string[] {
  return gpu.software
    ? [
        `The "GPU" here is a software renderer running on this machine's CPU cores (${gpu.detail}): these figures say nothing of a real GPU, only what the path costs.`,
      ]
    : [];
}

async function run(options: BenchOptions): Promise<BenchTable[]> {
  const loaded = await gpuOrSkipped("gpu backend");
  if ("skipped" in loaded) return loaded.skipped;
  const { gpu } = loaded;
  const cpu = cpuBackend();
  const where = `gpu.js ${gpu.mode} on ${gpu.detail}`;
  const caveat = softwareCaveat(gpu);
  const legend =
    "first: build (translate + compile the shader), run, read back; read: steady state with read-back; chained: results left on the device, one read at the end, per call; cpu: the cpu backend with read-back. ×: cpu ms / gpu ms (above 1: the gpu is faster).";

  const matmulRows: (string | number)[][] = [];
  for (const [m, k, n] of vaeShapes) {
    for (const v of variants) {
      // Stored layouts for op(A)·op(B): A is k×m when transposed, B is n×k.
      const a = randomArray(m * k, 1);
      const b = randomArray(k * n, 2);
      const [ga, gb, ca, cb] = [gpu.fromArray(a), gpu.fromArray(b), cpu.fromArray(a), cpu.fromArray(b)];
      const g = await timeOp(
        gpu,
        () => gpu.matmul(ga, gb, { batch: 1, m, k, n, transA: v.transA, transB: v.transB }),
        options.quick,
      );
      const c = await timeOp(
        cpu,
        () => cpu.matmul(ca, cb, { batch: 1, m, k, n, transA: v.transA, transB: v.transB }),
        options.quick,
      );
      matmulRows.push([`${m}×${k}·${k}×${n}`, v.label, ...timingCells(g, c)]);
      gpu.dispose(ga);
      gpu.dispose(gb);
      cpu.dispose(ca);
      cpu.dispose(cb);
    }
  }

  const [rows, cols] = [128, 784];
  const x = randomArray(rows * cols, 4);
  const bias = randomArray(cols, 5);
  const elementwise: { label: string; gpu: () => Storage; cpu: () => Storage }[] = [];
  const [gx, gbias, cx, cbias] = [
    gpu.fromArray(x),
    gpu.fromArray(bias),
    cpu.fromArray(x),
    cpu.fromArray(bias),
  ];
  elementwise.push(
    { label: "sigmoid", gpu: () => gpu.unary("sigmoid", gx), cpu: () => cpu.unary("sigmoid", cx) },
    {
      label: "add bias [784]",
      gpu: () => gpu.binary("add", gx, [rows, cols], gbias, [cols], [rows, cols]),
      cpu: () => cpu.binary("add", cx, [rows, cols], cbias, [cols], [rows, cols]),
    },
    {
      label: "sum over rows",
      gpu: () => gpu.reduce("sum", gx, [rows, cols], [0]),
      cpu: () => cpu.reduce("sum", cx, [rows, cols], [0]),
    },
  );
  const elementwiseRows: (string | number)[][] = [];
  for (const e of elementwise) {
    const g = await timeOp(gpu, e.gpu, options.quick);
    const c = await timeOp(cpu, e.cpu, options.quick);
    elementwiseRows.push([e.label, ...timingCells(g, c)]);
  }

  gpu.dispose(gx);
  gpu.dispose(gbias);
  cpu.dispose(cx);
  cpu.dispose(cbias);

  const gStep = await ourStep(gpu, benchData().batches, options.quick);
  const cStep = await ourStep(cpu, benchData().batches, options.quick);
  const fallbacks = [...gpu.fallbacks.entries()].map(([op, count]) => `${op} ×${count}`).join(", ");

  return [
    {
      title: `gpu backend matmul, ms per call (float32; ${where}) against the cpu backend`,
      columns: ["shape (m×k·k×n)", "variant", "first", "read", "chained", "cpu", "× read", "× chained"],
      rows: matmulRows,
      notes: [legend, ...caveat, ...withGpu],
    },
    {
      title: `gpu backend elementwise at ${rows}×${cols}, ms per call (float32; ${where}) against the cpu backend`,
      columns: ["op", "first", "read", "chained", "cpu", "× read", "× chained"],
      rows: elementwiseRows,
      notes: caveat,
    },
    {
      title: `one VAE training step (784–200–10, batch 128, Adam), ms: gpu backend (${where}) against the cpu backend`,
      columns: ["backend", "first step", "steady step", "× steady"],
      rows: [
        [`gpu (${gpu.mode})`, gStep.firstMs, gStep.medianMs, ratio(cStep.medianMs, gStep.medianMs)],
        ["cpu", cStep.firstMs, cStep.medianMs, "1.00×"],
      ],
      notes: [
        "Each step reads its loss back once (await loss.data()), as the training loop does.",
        `Ops the gpu backend ran on the host in this section: ${fallbacks || "none"}.`,
        ...caveat,
      ],
    },
  ];
}

export const gpuSection: BenchSection = { name: "gpu", run };
