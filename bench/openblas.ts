/**
 * OpenBLAS at its best, for anything that times PyTorch: OpenBLAS picks its kernels from the CPU's
 * model, and a model it does not know gets its generic "Prescott" (SSE3) kernels. On a Xeon of
 * model 207 that made a 128×784·784×200 matmul 4× slower and a PyTorch epoch 2.3× slower
 * (../shared/anchors/README.md). So the core type is chosen by measurement: the VAE's matmul timed
 * under each core type this CPU can run (OpenBLAS's own choice first), each product checked against
 * float64, the fastest kept. The chosen core is named beside every PyTorch figure.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface CoreChoice {
  /** The OPENBLAS_CORETYPE value (undefined: OpenBLAS's own choice), and what OpenBLAS says it runs. */
  coretype: string | undefined;
  core: string;
  /** The VAE's encoder matmul, 128×784·784×200, in GFLOP/s (best of several), and its error. */
  gflops: number;
  maxRelError: number;
}

/** Core types worth trying on this CPU: each needs the instruction sets named (from /proc/cpuinfo). */
const candidates: { coretype: string; needs: string[] }[] = [
  { coretype: "Haswell", needs: ["avx2", "fma"] },
  { coretype: "SkylakeX", needs: ["avx512f", "avx512bw", "avx512vl"] },
  { coretype: "Cooperlake", needs: ["avx512_bf16"] },
  { coretype: "Zen", needs: ["avx2", "fma"] },
];

function cpuFlags(): Set<string> {
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    return new Set(/^flags\s*:(.*)$/m.exec(info)?.[1].trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/** Times torch.mm at the VAE's shape under OpenBLAS's settings in `env`; checks it in float64. */
const probe = `
import time, torch
torch.set_num_threads(1)
a = torch.rand(128, 784); b = torch.rand(784, 200)
exact = a.double() @ b.double()
err = ((a @ b).double() - exact).abs().div(exact.abs()).max().item()
best = float("inf")
for _ in range(7):
    t = time.perf_counter()
    for _ in range(20): a @ b
    best = min(best, (time.perf_counter() - t) / 20)
print(f"{2 * 128 * 784 * 200 / best / 1e9:.2f} {err:.3e}")
`;

/** One core type's matmul speed and error; null when this OpenBLAS cannot run it here. */
function measure(python: string, coretype: string | undefined): CoreChoice | null {
  const env = { ...withCoreType(coretype), OPENBLAS_VERBOSE: "2" };
  const run = spawnSync(python, ["-c", probe], { env, encoding: "utf8" });
  if (run.status !== 0) return null;
  const [gflops, error] = run.stdout.trim().split("\n").pop()?.split(" ").map(Number) ?? [];
  const core = /Core:\s*(\S+)/.exec(`${run.stdout}${run.stderr}`)?.[1] ?? "unknown";
  // An unknown name makes OpenBLAS fall back to its own choice: that is not a candidate of its own.
  if (coretype !== undefined && core.toLowerCase() !== coretype.toLowerCase()) return null;
  return { coretype, core, gflops, maxRelError: error };
}

/**
 * Every core type this CPU and OpenBLAS can run, measured, fastest first. A product whose error is
 * past float32's (a relative 1e-4 on sums of 784 positive terms) is left out as wrong.
 */
export function rankCoreTypes(python: string): CoreChoice[] {
  const flags = cpuFlags();
  const tried: (string | undefined)[] = [
    undefined,
    ...candidates.filter((c) => c.needs.every((f) => flags.has(f))).map((c) => c.coretype),
  ];
  return tried
    .map((coretype) => measure(python, coretype))
    .filter((c): c is CoreChoice => c !== null && c.maxRelError < 1e-4)
    .sort((a, b) => b.gflops - a.gflops);
}

/** The environment that runs PyTorch on `choice`'s kernels. */
export function openblasEnv(choice: CoreChoice): NodeJS.ProcessEnv {
  return withCoreType(choice.coretype);
}

/** This process's environment with OpenBLAS's core type set (or left to OpenBLAS) and no other override of it. */
function withCoreType(coretype: string | undefined): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (coretype !== undefined) env.OPENBLAS_CORETYPE = coretype;
  return env;
}
