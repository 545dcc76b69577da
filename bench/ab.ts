/**
 * `npx tsx bench/ab.ts --baseline DIR [--pairs 16] [--threads N] [--steps 300]`: this checkout's
 * compiled VAE training step against another checkout's (DIR: a worktree of an earlier commit), in
 * pairs of fresh processes, so that both see the same machine; prints each pair's ms per step, the
 * median ratio and how many pairs the change won. A change to a kernel or to the step's runtime is
 * judged this way, in a few minutes, where a whole anchor run (bench/anchor.ts) takes ten. Run it
 * once with DIR a worktree of this same commit first: on a noisy machine that spread is what a
 * change must beat.
 *
 * Each process loads the library from its own checkout's src/ (DIR/src/...), builds the reference
 * VAE (784–200–10, Adam), compiles stepOf's step, warms it up on a fixed MNIST batch, then times
 * `--steps` steps, reading the loss after each as training does. With `--run ROOT`, the script is
 * that process (internal).
 */
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { benchFlags, numberFlag } from "./flags.ts";
import { median } from "./timing.ts";

const usage = "npx tsx bench/ab.ts --baseline DIR [--pairs N] [--threads N] [--steps N]";
const flags = benchFlags("bench ab", usage, {
  baseline: { type: "string" },
  pairs: { type: "string" },
  threads: { type: "string" },
  steps: { type: "string" },
  run: { type: "string" },
});
const steps = numberFlag("bench ab", "steps", flags.steps) ?? 300;
const threads = numberFlag("bench ab", "threads", flags.threads);

/** The step loop, on the library of the checkout at `root`: ms per step. */
async function stepLoop(root: string): Promise<number> {
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
  const [{ enableRelaxedSimd }, { Adam }, { loadMnist }, { BernoulliVAE }, { stepOf }, { gatherImages }] =
    await Promise.all(
      [
        "kernels/wasm/node-flags.ts",
        "nn/optim/adam.ts",
        "train-mnist/data.ts",
        "vae/model.ts",
        "vae/train.ts",
        "vae/dataset.ts",
      ].map(load),
    );
  enableRelaxedSimd();
  const backend = await createWasmBackend(threads === undefined ? {} : { threads });
  setBackend(backend);
  const images = gatherImages(
    loadMnist("train"),
    Int32Array.from({ length: 128 }, (_, i) => i * 7),
  );
  const generator = new Generator(0);
  const model = new BernoulliVAE(
    { inputDim: 784, latentDim: 10, encUnits: 200, decUnits: 200 },
    { generator },
  );
  const step = compile(stepOf(model, new Adam(model.parameters(), { lr: 0.001 }), generator));
  const run = (n: number) => {
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const x = fromTypedArray(images, [128, 784]);
      const results = step(x);
      results[0].item();
      for (const t of [x, ...results]) t.dispose();
    }
    return (performance.now() - start) / n;
  };
  run(30); // traced, lowered, and warm
  const ms = run(steps);
  await backend.terminate();
  return ms;
}

if (flags.run !== undefined) {
  console.log(JSON.stringify({ ms: await stepLoop(flags.run) }));
} else {
  if (flags.baseline === undefined) {
    console.error(`bench ab: --baseline DIR is needed\nusage: ${usage}`);
    process.exit(2);
  }
  // 16: with 8, two A/A runs of one commit came out 8 % apart either way (median 1.08 and 0.92).
  const pairs = numberFlag("bench ab", "pairs", flags.pairs) ?? 16;
  const roots = { baseline: resolve(flags.baseline), this: resolve(".") };
  /** One fresh process timing the checkout at `root`. */
  const time = (root: string): number => {
    const args = ["--import", "tsx", fileURLToPath(import.meta.url), "--run", root, "--steps", String(steps)];
    if (threads !== undefined) args.push("--threads", String(threads));
    const out = spawnSync(process.execPath, args, { encoding: "utf8" });
    if (out.status !== 0) throw new Error(`bench ab: the run on ${root} failed:\n${out.stderr}`);
    return (JSON.parse(out.stdout.trim().split("\n").at(-1) as string) as { ms: number }).ms;
  };
  const load = () => loadavg()[0].toFixed(2);
  console.log(
    `${pairs} pairs of ${steps} compiled steps (wasm, ${threads ?? "default"} threads), the baseline first in odd pairs, this checkout first in even ones; load ${load()}`,
  );
  const ratios: number[] = [];
  for (let p = 1; p <= pairs; p++) {
    // Which runs first alternates (ABBA…): the second process of a pair ran slower here even
    // with the same checkout on both sides (8 pairs, median 1.08), and alternating cancels that.
    const [before, after] =
      p % 2 === 1
        ? [time(roots.baseline), time(roots.this)]
        : (([a, b]) => [b, a])([time(roots.this), time(roots.baseline)]);
    ratios.push(after / before);
    console.log(
      `pair ${p}: ${before.toFixed(2)} → ${after.toFixed(2)} ms/step (${(after / before).toFixed(3)})`,
    );
  }
  const won = ratios.filter((r) => r < 1).length;
  console.log(
    `median ratio ${median(ratios).toFixed(3)} (below 1: this checkout is faster); faster in ${won} of ${pairs}; load ${load()}`,
  );
}
