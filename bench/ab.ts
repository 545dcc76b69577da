/**
 * `npx tsx bench/ab.ts --baseline DIR [--rounds 40] [--block 20] [--threads N]`: this checkout's
 * compiled VAE training step against another checkout's (DIR: a worktree of an earlier commit),
 * both loaded in this one process and timed in turns, so that both see the same machine. A change
 * to a kernel or to the step's runtime is judged this way, in a minute or two, where a whole
 * anchor run (bench/anchor.ts) takes ten.
 *
 * Why one process, in turns: this VM's speed drifts by tens of percent within seconds (another
 * tenant, the clock), and fresh processes timed one after the other saw different machines: two
 * runs of 8 pairs of processes of one same commit came out 8 % apart, either way. Here each round
 * times `--block` steps of one side and then of the other (which goes first alternates), and the
 * ratio of the two blocks is that round's; the median over the rounds cancels what drifts slower
 * than a round. What it cannot cancel: the two copies of the library are compiled by V8 separately,
 * and one can come out a few percent faster for a whole run. Nine A/A runs (DIR a worktree of the
 * same commit) gave medians from 0.971 to 1.056; so a change must beat about 5 %, twice.
 *
 * Each side loads the library from its own checkout's src/ (its own backend, worker threads and
 * memory), builds the reference VAE (784–200–10, Adam), compiles stepOf's step and warms it up on
 * the same fixed MNIST batch; a step reads the loss after it, as training does.
 */
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { benchFlags, numberFlag } from "./flags.ts";
import { median } from "./timing.ts";

const usage = "npx tsx bench/ab.ts --baseline DIR [--rounds N] [--block N] [--threads N]";
const flags = benchFlags("bench ab", usage, {
  baseline: { type: "string" },
  rounds: { type: "string" },
  block: { type: "string" },
  threads: { type: "string" },
});
const rounds = numberFlag("bench ab", "rounds", flags.rounds) ?? 40;
const block = numberFlag("bench ab", "block", flags.block) ?? 20;
const threads = numberFlag("bench ab", "threads", flags.threads);

interface Side {
  /** Run `n` steps; ms per step. */
  steps(n: number): number;
  terminate(): Promise<void>;
}

/** The compiled step of the checkout at `root`, on `images` (one batch of 128). */
async function sideOf(root: string, images: Float32Array): Promise<Side> {
  const load = (path: string) => import(pathToFileURL(join(root, "src", path)).href);
  const [{ Generator }, { fromTypedArray }, { compile }, { setBackend }, { createWasmBackend }] =
    await Promise.all(
      [
        "autograd/random.ts",
        "autograd/tensor.ts",
        "compile/compile.ts",
        "kernels/registry.ts",
        "kernels/wasm/create.ts",
      ].map(load),
    );
  const [{ enableRelaxedSimd }, { Adam }, { BernoulliVAE }, { stepOf }] = await Promise.all(
    ["kernels/wasm/node-flags.ts", "nn/optim/adam.ts", "vae/model.ts", "vae/train.ts"].map(load),
  );
  enableRelaxedSimd();
  const backend = await createWasmBackend(threads === undefined ? {} : { threads });
  setBackend(backend);
  const generator = new Generator(0);
  const model = new BernoulliVAE(
    { inputDim: 784, latentDim: 10, encUnits: 200, decUnits: 200 },
    { generator },
  );
  const step = compile(stepOf(model, new Adam(model.parameters(), { lr: 0.001 }), generator));
  const steps = (n: number) => {
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const x = fromTypedArray(images, [128, 784]);
      const results = step(x);
      results[0].item();
      for (const t of [x, ...results]) t.dispose();
    }
    return (performance.now() - start) / n;
  };
  steps(30); // traced, lowered, and warm
  return { steps, terminate: () => backend.terminate() };
}

if (flags.baseline === undefined) {
  console.error(`bench ab: --baseline DIR is needed\nusage: ${usage}`);
  process.exit(2);
}
const roots = { baseline: resolve(flags.baseline), this: resolve(".") };
const { loadMnist } = await import(pathToFileURL(join(roots.this, "src/train-mnist/data.ts")).href);
const { gatherImages } = await import(pathToFileURL(join(roots.this, "src/vae/dataset.ts")).href);
const images: Float32Array = gatherImages(
  loadMnist("train"),
  Int32Array.from({ length: 128 }, (_, i) => i * 7),
);
const baseline = await sideOf(roots.baseline, images);
const current = await sideOf(roots.this, images);
const load = () => loadavg()[0].toFixed(2);
console.log(
  `${rounds} rounds of ${block} compiled steps a side (wasm, ${threads ?? "default"} threads), the baseline first in odd rounds; load ${load()}`,
);
const ratios: number[] = [];
const ms = { baseline: [] as number[], this: [] as number[] };
for (let r = 1; r <= rounds; r++) {
  // Which side goes first alternates, in case the second block of a round runs differently.
  const [before, after] =
    r % 2 === 1
      ? [baseline.steps(block), current.steps(block)]
      : (([a, b]) => [b, a])([current.steps(block), baseline.steps(block)]);
  ms.baseline.push(before);
  ms.this.push(after);
  ratios.push(after / before);
}
await Promise.all([baseline.terminate(), current.terminate()]);
const sorted = [...ratios].sort((a, b) => a - b);
const quartile = (q: number) => sorted[Math.floor(q * (sorted.length - 1))];
const won = ratios.filter((r) => r < 1).length;
console.log(
  `ms per step, medians: baseline ${median(ms.baseline).toFixed(2)}, this ${median(ms.this).toFixed(2)}`,
);
console.log(
  `ratio this/baseline: median ${median(ratios).toFixed(3)} (quartiles ${quartile(0.25).toFixed(3)}–${quartile(0.75).toFixed(3)}; below 1: this checkout is faster); faster in ${won} of ${rounds} rounds; load ${load()}`,
);
