/**
 * Two real trainings into one --out (they used to both exit 0 and say "report written", the folder
 * ending with one run's checkpoint and report): the second is refused at once, naming the folder
 * and the first run's process, and the first finishes undisturbed. A run killed with kill -9
 * leaves its lock behind, and the next run into the folder takes it over.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../src/train-mnist/checkpoint.ts";
import { LOCK_FILE } from "../../src/train-mnist/lock.ts";
import { writeMnistFolder } from "../fixtures/mnist-folder.ts";

const repo = resolve(import.meta.dirname, "../..");
const tsx = pathToFileURL(createRequire(join(repo, "package.json")).resolve("tsx")).href;
const root = mkdtempSync(join(tmpdir(), "elbo-concurrent-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});
const data = writeMnistFolder(join(root, "data"), [64, 28, 28], [10, 28, 28]);
const quick = [
  "--data",
  data,
  "--hidden",
  "8",
  "--latent",
  "2",
  "--batch-size",
  "16",
  "--iw-k",
  "2",
  "--iw-images",
  "3",
];
const args = (out: string, epochs: number) => [
  "--import",
  tsx,
  join(repo, "src/train-mnist/cli.ts"),
  ...quick,
  "--epochs",
  String(epochs),
  "--out",
  out,
];
const environment = { ...process.env, ELBO_BACKEND: "cpu" };

/** Start a training that keeps going, and wait until it has written its first checkpoint. */
async function longRun(out: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, args(out, 100_000), {
    env: environment,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  child.stdout?.on("data", (chunk) => {
    stdout += chunk;
  });
  const deadline = Date.now() + 60_000;
  while (!/^epoch 1\//m.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(stdout).toMatch(/^epoch 1\//m);
  return child;
}

function run(
  out: string,
  epochs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  const start = performance.now();
  return new Promise((done) => {
    execFile(
      process.execPath,
      args(out, epochs),
      { env: environment, timeout: 60_000 },
      (error, stdout, stderr) =>
        done({
          code: error === null ? 0 : ((error as { code?: number }).code ?? null),
          stdout,
          stderr,
          seconds: (performance.now() - start) / 1000,
        }),
    );
  });
}

describe("two runs into one --out", () => {
  it("the second is refused at once, naming the folder and the first run's pid; the first goes on", async () => {
    const out = join(root, "shared");
    const first = await longRun(out);
    const lock = JSON.parse(readFileSync(join(out, LOCK_FILE), "utf8"));
    expect(lock.pid).toBe(first.pid);

    const second = await run(out, 1);
    expect(second.code, second.stderr).toBe(1);
    expect(second.stderr).toContain(
      `train:mnist: --out ${out}: another run (pid ${first.pid}) is writing into this folder; wait for it to end or choose another folder`,
    );
    expect(second.stdout).toBe("");
    // The first run's lock and checkpoint are untouched, and it still trains.
    expect(JSON.parse(readFileSync(join(out, LOCK_FILE), "utf8")).pid).toBe(first.pid);
    expect(first.exitCode).toBeNull();
    expect(loadCheckpoint(join(out, "checkpoint.safetensors")).epoch).toBeGreaterThanOrEqual(1);

    // kill -9 leaves the lock behind; the next run takes it over and finishes.
    first.kill("SIGKILL");
    await new Promise((done) => first.once("exit", done));
    expect(existsSync(join(out, LOCK_FILE))).toBe(true);
    const next = await run(out, 1);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toMatch(/report written to /);
    expect(existsSync(join(out, LOCK_FILE))).toBe(false);
    expect(loadCheckpoint(join(out, "checkpoint.safetensors")).epoch).toBe(1);
  }, 180_000);
});
