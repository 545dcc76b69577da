/**
 * `npx tsx bench/anchor.ts [--rounds 3] [--epochs 2] [--one-thread] [--busy] [--baseline DIR]
 * [--torch PATH] [--python PATH]`: elbo's training epoch against the native anchor, PyTorch on
 * OpenBLAS at its best (the shared anchors folder's torch_vae.py, same model, same data, same
 * cores), run alternately — PyTorch, then `npm run train:mnist`, round after round — so that both
 * see the same machine. Prints each round's seconds per epoch and elbo's ratio to the best PyTorch
 * of that round, then the medians. On a shared machine the absolute times wander; the ratio within a
 * round is the figure.
 *
 * PyTorch at its best: OpenBLAS's core type is chosen by measurement (bench/openblas.ts: OpenBLAS
 * falls back to slow generic kernels on CPUs it does not know), and each round runs PyTorch with one
 * and with two intra-op threads and keeps the faster. The core type and thread count are printed
 * beside every PyTorch figure.
 *
 * --one-thread adds elbo with ELBO_THREADS=1 (thread scaling), and in each round the machine's own
 * two-thread ceiling (bench/calibrate.ts: what two threads of pure SIMD work give here then, which
 * no program's scaling can pass); --busy adds elbo, and elbo on one
 * thread, while a busy loop occupies one core (a machine that is not idle); --baseline DIR the
 * train:mnist of another checkout (before/after), each in the same rounds. (The CLI turns on relaxed
 * SIMD's fused multiply-adds itself where Node has them behind a flag: see
 * src/kernels/wasm/node-flags.ts.)
 *
 * PyTorch needs `python3-torch` and `libopenblas-dev` (without OpenBLAS, Debian's torch uses the
 * reference BLAS and is many times slower: never compare against that).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { twoThreadCeiling } from "./calibrate.ts";
import { benchFlags, numberFlag } from "./flags.ts";
import { type CoreChoice, openblasEnv, rankCoreTypes } from "./openblas.ts";
import { median } from "./timing.ts";

const usage =
  "npx tsx bench/anchor.ts [--rounds N] [--epochs N] [--one-thread] [--busy] [--baseline DIR] [--torch PATH/torch_vae.py] [--python PATH]";
const flags = benchFlags("bench anchor", usage, {
  rounds: { type: "string" },
  epochs: { type: "string" },
  "one-thread": { type: "boolean" },
  busy: { type: "boolean" },
  baseline: { type: "string" },
  torch: { type: "string" },
  python: { type: "string" },
});
const rounds = numberFlag("bench anchor", "rounds", flags.rounds) ?? 3;
const epochs = numberFlag("bench anchor", "epochs", flags.epochs) ?? 2;
// The shared anchors folder sits beside the project (or beside the folder of its worktrees).
const torchScript =
  flags.torch ??
  [join("..", "shared"), join("..", "..", "shared")]
    .map((dir) => join(dir, "anchors", "torch_vae.py"))
    .find(existsSync) ??
  join("..", "shared", "anchors", "torch_vae.py");
// Debian's python3, which has python3-torch, even where another python3 comes first on PATH.
const python = flags.python ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
if (!existsSync(torchScript)) {
  console.error(`bench anchor: no PyTorch anchor at ${torchScript} (pass --torch PATH)`);
  process.exit(2);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** PyTorch's seconds per epoch on `core`'s kernels with `threads` intra-op threads, from its `epoch N: … time T s` lines. */
function torchEpochs(core: CoreChoice, threads: number): number[] {
  const args = [torchScript, "--epochs", String(epochs), "--threads", String(threads)];
  const run = spawnSync(python, args, { env: openblasEnv(core), encoding: "utf8" });
  if (run.status !== 0) throw new Error(`PyTorch anchor failed:\n${run.stdout}\n${run.stderr}`);
  const times = [...run.stdout.matchAll(/^epoch \d+: avg loss [\d.]+\s+time ([\d.]+) s/gm)].map((m) =>
    Number(m[1]),
  );
  if (times.length !== epochs)
    throw new Error(`PyTorch anchor printed ${times.length} epochs:\n${run.stdout}`);
  return times;
}

/**
 * elbo's seconds per epoch, from the metrics.json of `npm run train:mnist -- --epochs N` run in
 * `dir` (this checkout, or another one given with --baseline), with extra environment.
 */
function elboEpochs(dir: string, env: Record<string, string>): number[] {
  const out = mkdtempSync(join(tmpdir(), "elbo-anchor-"));
  try {
    const args = ["--epochs", String(epochs), "--out", out];
    const run = spawnSync("npm", ["run", "train:mnist", "--", ...args], {
      cwd: dir,
      env: { ...process.env, ...env },
      encoding: "utf8",
    });
    if (run.status !== 0) throw new Error(`train:mnist in ${dir} failed:\n${run.stdout}\n${run.stderr}`);
    const metrics = JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")) as {
      epochs: { seconds: number }[];
    };
    return metrics.epochs.map((e) => e.seconds);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** A busy loop on one core for as long as `work` runs: a machine that is not idle. */
function underLoad<T>(work: () => T): T {
  const busy = spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
  try {
    return work();
  } finally {
    busy.kill("SIGKILL");
  }
}

const cores = rankCoreTypes(python);
if (cores.length === 0) {
  console.error(
    `bench anchor: PyTorch (${python}) could not run a checked matmul under any OpenBLAS core type`,
  );
  process.exit(2);
}
console.log("OpenBLAS core types, 128×784·784×200 matmul on one thread (fastest first):");
for (const c of cores)
  console.log(
    `  ${(c.coretype ?? `(auto: ${c.core})`).padEnd(18)} ${c.gflops.toFixed(1).padStart(6)} GFLOP/s  max rel. error ${c.maxRelError.toExponential(1)}`,
  );
const best = cores[0];
const coreName = best.coretype ?? `auto (${best.core})`;

/** The systems of a round, in the order they run: PyTorch first (both thread counts), then elbo's. */
const torchThreads = [1, 2];
const systems: { label: string; run: () => number[] }[] = [
  ...torchThreads.map((threads) => ({
    label: `PyTorch ${coreName} ×${threads}`,
    run: () => torchEpochs(best, threads),
  })),
  { label: "elbo", run: () => elboEpochs(".", {}) },
];
const ceilings: number[] = [];
if (flags["one-thread"]) {
  systems.push({ label: "elbo 1 thread", run: () => elboEpochs(".", { ELBO_THREADS: "1" }) });
}
if (flags.busy) {
  systems.push({ label: "elbo, busy core", run: () => underLoad(() => elboEpochs(".", {})) });
  systems.push({
    label: "elbo 1 thread, busy",
    run: () => underLoad(() => elboEpochs(".", { ELBO_THREADS: "1" })),
  });
}
const baseline = flags.baseline ?? "";
if (baseline !== "") systems.push({ label: "baseline", run: () => elboEpochs(baseline, {}) });

const seconds: number[][] = systems.map(() => []);
/** The best PyTorch of each round: the faster of its thread counts. */
const torchBest: number[] = [];
const width = Math.max(24, ...systems.map((x) => x.label.length + 2));
console.log(
  `${rounds} rounds of ${epochs} epochs; each round runs ${systems.map((x) => x.label).join(", ")} in turn`,
);
console.log("s/epoch is the mean of the round's epochs; in brackets, the ratio to the round's best PyTorch");
console.log(["round", ...systems.map((x) => x.label)].map((c) => c.padStart(width)).join(""));
const isTorch = (i: number) => i < torchThreads.length;
const cell = (value: number, torch: number, i: number) =>
  (isTorch(i) ? value.toFixed(3) : `${value.toFixed(3)} (${(value / torch).toFixed(3)})`).padStart(width);
for (let r = 1; r <= rounds; r++) {
  for (const [i, system] of systems.entries()) seconds[i].push(mean(system.run()));
  torchBest.push(Math.min(...torchThreads.map((_, i) => seconds[i][r - 1])));
  if (flags["one-thread"]) ceilings.push(await twoThreadCeiling());
  console.log(
    [String(r).padStart(width), ...seconds.map((col, i) => cell(col[r - 1], torchBest[r - 1], i))].join("") +
      (ceilings.length === r ? `   two-thread ceiling ${ceilings[r - 1].toFixed(2)}×` : ""),
  );
}
const ratios = seconds.map((col) => median(col.map((value, r) => value / torchBest[r])));
console.log(
  [
    "median".padStart(width),
    ...seconds.map((col, i) =>
      (isTorch(i) ? median(col).toFixed(3) : `${median(col).toFixed(3)} (${ratios[i].toFixed(3)})`).padStart(
        width,
      ),
    ),
  ].join(""),
);
const label = (name: string) => systems.findIndex((x) => x.label === name);
const ratioOf = (a: string, b: string) => median(seconds[label(a)].map((v, r) => v / seconds[label(b)][r]));
if (label("elbo 1 thread") >= 0)
  console.log(
    `two threads against one: ${ratioOf("elbo 1 thread", "elbo").toFixed(2)}× (median of the rounds); the machine's own two-thread ceiling in the same rounds: ${median(ceilings).toFixed(2)}× (bench/calibrate.ts)`,
  );
if (label("elbo, busy core") >= 0) {
  console.log(`busy core against quiet: ${ratioOf("elbo, busy core", "elbo").toFixed(2)}× the quiet epoch`);
  console.log(
    `busy core, all threads against one thread: ${ratioOf("elbo, busy core", "elbo 1 thread, busy").toFixed(2)}×`,
  );
}
console.log(
  `A ratio below 1 means that configuration's epoch is shorter than PyTorch's best (OpenBLAS core ${coreName}, the faster of ${torchThreads.join(" and ")} threads in each round).`,
);
