/**
 * Kill the trainer with SIGKILL at random moments, half of them inside the checkpoint write (the
 * moment its temporary file appears), resume after each kill, and check that every checkpoint left
 * behind loads and that the run ends exactly where an uninterrupted run ends.
 *   npx tsx scripts/kill-resume.ts [--kills N] [--seed S] [--backend NAME]
 * Prints what it did and a summary; exits 1 if any check failed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Generator } from "../src/autograd/random.ts";
import { loadCheckpoint } from "../src/train-mnist/checkpoint.ts";

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "20" },
    seed: { type: "string", default: "1" },
    backend: { type: "string", default: "wasm" },
  },
});
const kills = Number(values.kills);
const random = new Generator(Number(values.seed));
// Latent 3 with 1,001 images draws an odd number of normals per epoch: a normal is pending at every save.
const settings = [
  "--limit",
  "1001",
  "--latent",
  "3",
  "--hidden",
  "32",
  "--batch-size",
  "100",
  "--epochs",
  "6",
];
const evaluation = ["--iw-k", "2", "--iw-images", "10", "--backend", values.backend as string];
const root = mkdtempSync(join(tmpdir(), "elbo-kill-"));

function start(args: string[]): {
  child: ChildProcess;
  exited: Promise<number | null>;
  trained: Promise<void>;
} {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/train-mnist/cli.ts", ...args, ...evaluation],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  // Training is over when the evaluation's first line appears.
  const trained = new Promise<void>((done) =>
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("test: ")) done();
    }),
  );
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((done) =>
    child.on("exit", (code) => {
      if (code !== 0 && code !== null) console.error(stderr);
      done(code);
    }),
  );
  return { child, exited, trained };
}

function lossesOf(dir: string): number[] {
  const metrics = JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8"));
  return [...metrics.epochs.map((e: { loss: number }) => e.loss), metrics.test.negativeElbo.loss];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  console.log(`reference: an uninterrupted run (${settings.join(" ")})`);
  const reference = join(root, "reference");
  const began = performance.now();
  const referenceRun = start([...settings, "--out", reference]);
  await referenceRun.trained;
  // Kills between writes fall anywhere from start-up to the end of training.
  const runMs = performance.now() - began;
  if ((await referenceRun.exited) !== 0) throw new Error("the reference run failed");
  const expected = lossesOf(reference);

  const out = join(root, "killed");
  const checkpoint = join(out, "checkpoint.safetensors");
  let tried = 0;
  let insideWrite = 0;
  let intact = 0;
  let failures = 0;
  for (;;) {
    const args = existsSync(checkpoint)
      ? ["--resume", checkpoint, "--out", out]
      : [...settings, "--out", out];
    const run = start(args);
    const pid = run.child.pid as number;
    let finished = false;
    run.exited.then(() => {
      finished = true;
    });
    if (tried >= kills) {
      const code = await run.exited;
      if (code !== 0) failures++;
      break;
    }
    const duringWrite = random.uniform() < 0.5;
    const temporary = `${checkpoint}.tmp-${pid}`;
    if (duringWrite) {
      // Watch for the temporary file as closely as the event loop allows; let 0 to 2 writes finish,
      // then kill as the next one starts.
      const tick = () => new Promise((r) => setImmediate(r));
      for (let skip = Math.floor(random.uniform() * 3); skip > 0 && !finished; skip--) {
        while (!finished && !existsSync(temporary)) await tick();
        while (!finished && existsSync(temporary)) await tick();
      }
      while (!finished && !existsSync(temporary)) await tick();
    } else {
      await sleep(random.uniform() * runMs);
    }
    if (finished) {
      if ((await run.exited) !== 0) failures++;
      break;
    }
    run.child.kill("SIGKILL");
    await run.exited;
    tried++;
    const inWrite = existsSync(temporary);
    if (inWrite) insideWrite++;
    let state = "no checkpoint yet";
    if (existsSync(checkpoint)) {
      try {
        state = `checkpoint of epoch ${loadCheckpoint(checkpoint).epoch} loads`;
        intact++;
      } catch (e) {
        state = `CHECKPOINT DAMAGED: ${(e as Error).message}`;
        failures++;
      }
    } else {
      intact++;
    }
    console.log(`kill ${tried}: ${inWrite ? "inside the checkpoint write" : "between writes"}; ${state}`);
  }
  const got = lossesOf(out);
  const same = got.length === expected.length && got.every((v, i) => v === expected[i]);
  if (!same) failures++;
  const leftovers = readdirSync(out).filter((n) => n.includes(".tmp-"));
  if (leftovers.length > 0) failures++;
  console.log(
    `\n${tried} SIGKILLs (${insideWrite} inside the checkpoint write); checkpoint whole after ${intact} of ${tried}; ` +
      `final losses and test loss ${same ? "identical to" : "DIFFERENT FROM"} the uninterrupted run's; ` +
      `${leftovers.length} temporary files left`,
  );
  rmSync(root, { recursive: true, force: true });
  process.exit(failures === 0 ? 0 : 1);
}

await main();
