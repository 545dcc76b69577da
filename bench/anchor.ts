/**
 * `npx tsx bench/anchor.ts [--rounds 3] [--epochs 2] [--one-thread] [--baseline DIR]
 * [--torch PATH] [--python PATH]`: elbo's training epoch against
 * the native anchor, PyTorch on OpenBLAS (the shared anchors folder's torch_vae.py, same model,
 * same data, same cores), run alternately — PyTorch, then `npm run train:mnist`, round after round —
 * so that both see the same machine. Prints each round's seconds per epoch and elbo's ratio, then
 * the medians. On a shared machine the absolute times wander; the ratio within a round is the figure.
 *
 * --one-thread adds elbo with ELBO_THREADS=1 (thread scaling), --baseline DIR the train:mnist of
 * another checkout (before/after), each in the same rounds. (The CLI turns on relaxed SIMD's fused
 * multiply-adds itself where Node has them behind a flag: see src/kernels/wasm/node-flags.ts.)
 *
 * PyTorch needs `python3-torch` and `libopenblas-dev` (without OpenBLAS, Debian's torch uses the
 * reference BLAS and is many times slower: never compare against that). OPENBLAS_CORETYPE and
 * OPENBLAS_L2_SIZE are removed from PyTorch's environment so that OpenBLAS picks its own kernels.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1] : fallback;
}

const rounds = Number(flag("--rounds", "3"));
const epochs = Number(flag("--epochs", "2"));
// The shared anchors folder sits beside the project (or beside the folder of its worktrees).
const torchScript = flag(
  "--torch",
  [join("..", "shared"), join("..", "..", "shared")]
    .map((dir) => join(dir, "anchors", "torch_vae.py"))
    .find(existsSync) ?? join("..", "shared", "anchors", "torch_vae.py"),
);
// Debian's python3, which has python3-torch, even where another python3 comes first on PATH.
const python = flag("--python", existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(epochs) || epochs < 1) {
  console.error(
    "usage: npx tsx bench/anchor.ts [--rounds N] [--epochs N] [--torch PATH/torch_vae.py] [--python PATH]",
  );
  process.exit(2);
}
if (!existsSync(torchScript)) {
  console.error(`bench anchor: no PyTorch anchor at ${torchScript} (pass --torch PATH)`);
  process.exit(2);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** PyTorch's seconds per epoch, from its `epoch N: avg loss L  time T s` lines. */
function torchEpochs(): number[] {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const run = spawnSync(python, [torchScript, "--epochs", String(epochs)], { env, encoding: "utf8" });
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

/** The systems of a round, in the order they run: PyTorch first, then elbo's configurations. */
const systems: { label: string; run: () => number[] }[] = [
  { label: "PyTorch", run: torchEpochs },
  { label: "elbo", run: () => elboEpochs(".", {}) },
];
if (process.argv.includes("--one-thread")) {
  systems.push({ label: "elbo 1 thread", run: () => elboEpochs(".", { ELBO_THREADS: "1" }) });
}
const baseline = flag("--baseline", "");
if (baseline !== "") systems.push({ label: "baseline", run: () => elboEpochs(baseline, {}) });

const seconds: number[][] = systems.map(() => []);
console.log(
  `${rounds} rounds of ${epochs} epochs; each round runs ${systems.map((x) => x.label).join(", ")} in turn`,
);
console.log(
  "s/epoch is the mean of the round's epochs; in brackets, the ratio to PyTorch's in the same round",
);
console.log(["round", ...systems.map((x) => x.label)].map((c) => c.padStart(22)).join(""));
const cell = (value: number, torch: number, first: boolean) =>
  (first ? value.toFixed(3) : `${value.toFixed(3)} (${(value / torch).toFixed(3)})`).padStart(22);
for (let r = 1; r <= rounds; r++) {
  for (const [i, system] of systems.entries()) seconds[i].push(mean(system.run()));
  console.log(
    [String(r).padStart(22), ...seconds.map((col, i) => cell(col[r - 1], seconds[0][r - 1], i === 0))].join(
      "",
    ),
  );
}
const ratios = seconds.map((col) => median(col.map((value, r) => value / seconds[0][r])));
console.log(
  [
    "median".padStart(22),
    ...seconds.map((col, i) =>
      (i === 0 ? median(col).toFixed(3) : `${median(col).toFixed(3)} (${ratios[i].toFixed(3)})`).padStart(22),
    ),
  ].join(""),
);
console.log(
  "A ratio below 1 means that configuration's epoch is shorter than PyTorch's (median of the rounds' ratios).",
);
