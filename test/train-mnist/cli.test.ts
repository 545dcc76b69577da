/**
 * `npm run train:mnist` run as a user runs it, in a child process: --help lists the flags, a bad
 * value is named, and a run trains, writes its report and resumes to the same losses. And as a
 * careful user breaks it: a full disk, special files and folders, data
 * sets that cannot train the model, a checkpoint resumed from another folder, --eval-only's report,
 * and the wrapper killed under the trainer. Each must fail fast with a message naming what is
 * wrong and a non-zero exit, or work; none may hang or lose the last checkpoint.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../src/train-mnist/checkpoint.ts";
import { writeMnistFolder } from "../fixtures/mnist-folder.ts";
import { sharedTempDir, tempDir } from "../fixtures/temp-dir.ts";

const repo = resolve(import.meta.dirname, "../..");
// tsx by its full address: the CLI runs in folders outside the repo, where `--import tsx` finds nothing.
const tsx = pathToFileURL(createRequire(join(repo, "package.json")).resolve("tsx")).href;
const root = sharedTempDir("elbo-cli-robust-");
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups) c();
});

/** A folder of the four MNIST files with `train` and `test` images of the given sizes. */
const dataFolder = (name: string, train: [number, number, number], test: [number, number, number]) =>
  writeMnistFolder(join(root, name), train, test);

const small = dataFolder("small", [64, 28, 28], [20, 28, 28]);
const quick = ["--hidden", "8", "--latent", "2", "--batch-size", "32", "--iw-k", "2", "--iw-images", "5"];

/** Run the CLI as `node --import <tsx> src/train-mnist/cli.ts args` in `cwd`, killed if it takes more than `seconds`. */
function cli(
  args: string[],
  options: { cwd?: string; seconds?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  const start = performance.now();
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", tsx, join(repo, "src/train-mnist/cli.ts"), ...args],
      {
        cwd: options.cwd ?? repo,
        timeout: (options.seconds ?? 60) * 1000,
        killSignal: "SIGKILL",
        env: { ...process.env, ELBO_BACKEND: "cpu" },
      },
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

describe("train:mnist refuses what cannot work, at once", () => {
  it("an output folder on /proc, a checkpoint that is /dev/zero or a named pipe: a message within seconds", async () => {
    const fifo = join(root, "pipe.safetensors");
    execFileSync("mkfifo", [fifo]);
    for (const [args, message] of [
      [["--out", "/proc/elbo-run"], /--out \/proc\/elbo-run: \/proc is on the proc file system/],
      [
        ["--resume", "/dev/zero"],
        /\/dev\/zero: not a regular file but a character device; a checkpoint is expected/,
      ],
      [["--eval-only", fifo], /pipe\.safetensors: not a regular file but a named pipe/],
    ] as [string[], RegExp][]) {
      const r = await cli(args, { seconds: 30 });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(message);
      // The message on a line of its own, saying which command failed (src/train-mnist/cli.ts).
      expect(r.stderr).toMatch(/^train:mnist: /m);
      expect(r.seconds).toBeLessThan(30);
    }
  }, 120_000);

  it("a training set of 0 images, and a 27×27 test set, are refused before training", async () => {
    const empty = dataFolder("empty", [0, 28, 28], [20, 28, 28]);
    const r0 = await cli(["--data", empty, "--out", join(root, "out-empty"), ...quick]);
    expect(r0.code).toBe(1);
    expect(r0.stderr).toMatch(
      /empty\/train-images-idx3-ubyte: holds no pixels \(0 images of 28×28\); at least one is needed/,
    );

    const odd = dataFolder("odd", [64, 28, 28], [20, 27, 27]);
    const r27 = await cli(["--data", odd, "--out", join(root, "out-odd"), ...quick]);
    expect(r27.code).toBe(1);
    expect(r27.stderr).toMatch(
      /odd\/t10k-images-idx3-ubyte: test images are 27×27 but the training images .* are 28×28/,
    );
    expect(r27.stdout).not.toMatch(/epoch 1/);
  }, 120_000);
});

describe("train:mnist keeps its checkpoint", () => {
  it("on a full disk: fails naming the file, keeps the last checkpoint, exits non-zero", async (ctx) => {
    const mount = join(root, "small-disk");
    mkdirSync(mount);
    try {
      // One checkpoint of this model is about 330 KB: one fits, a second beside it (the temporary) does not.
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=500k", "tmpfs", mount], { stdio: "ignore" });
    } catch {
      ctx.skip(); // not allowed to mount here: test/train-mnist/files.test.ts injects the short write instead
      return;
    }
    cleanups.push(() => execFileSync("umount", [mount]));
    const r = await cli([
      "--data",
      small,
      "--out",
      join(mount, "run"),
      "--epochs",
      "3",
      "--hidden",
      "16",
      "--latent",
      "3",
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /run\/checkpoint\.safetensors: could not be written \(.*(ENOSPC|disk full).*\); the previous file, if any, is unchanged/,
    );
    expect(loadCheckpoint(join(mount, "run", "checkpoint.safetensors")).epoch).toBe(1);
  }, 120_000);

  it("a relative --data resumes from another folder; an equivalent --data is accepted; --eval-only writes no checkpoint", async () => {
    const work = join(root, "work");
    mkdirSync(work);
    const first = await cli(["--data", relative(work, small), "--out", "run", "--epochs", "1", ...quick], {
      cwd: work,
    });
    expect(first.code, first.stderr).toBe(0);
    const checkpoint = join(work, "run", "checkpoint.safetensors");
    expect(loadCheckpoint(checkpoint).training.dataDir).toBe(small);

    const elsewhere = tempDir("elbo-elsewhere-");
    const resumed = await cli(
      ["--resume", checkpoint, "--epochs", "2", "--data", small, "--out", "resumed", ...quick.slice(6)],
      {
        cwd: elsewhere,
      },
    );
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^epoch 2\/2 /m);

    const evaluated = await cli(["--eval-only", checkpoint, "--out", "eval", ...quick.slice(6)], {
      cwd: elsewhere,
    });
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toMatch(/report written to eval\/ \(metrics\.json, reconstructions\.png/);
    expect(evaluated.stdout).not.toMatch(/checkpoint\.safetensors,/);
    expect(existsSync(join(elsewhere, "eval", "checkpoint.safetensors"))).toBe(false);
    expect(JSON.parse(readFileSync(join(elsewhere, "eval", "metrics.json"), "utf8")).checkpoint).toBe(
      checkpoint,
    );
  }, 180_000);
});

describe("train:mnist and its wrapper die together", () => {
  it("kill -9 of tsx leaves no trainer writing into --out", async () => {
    const out = join(root, "orphan");
    const wrapper: ChildProcess = spawn(
      process.execPath,
      [
        join(repo, "node_modules/tsx/dist/cli.mjs"),
        join(repo, "src/train-mnist/cli.ts"),
        "--data",
        small,
        "--out",
        out,
        "--epochs",
        "100000",
        ...quick,
      ],
      { cwd: repo, env: { ...process.env, ELBO_BACKEND: "cpu" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    wrapper.stdout?.on("data", (chunk) => {
      stdout += chunk;
    });
    const childrenOf = (pid: number) =>
      readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    const alive = (pid: number) => {
      try {
        return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 60_000;
    while (!/epoch 2\//.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toMatch(/epoch 2\//);
    const trainer = childrenOf(wrapper.pid as number).find((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("cli.ts"),
    );
    expect(trainer).toBeDefined();
    cleanups.push(() => {
      if (trainer !== undefined && alive(trainer)) process.kill(trainer, "SIGKILL");
    });
    process.kill(wrapper.pid as number, "SIGKILL");
    const until = Date.now() + 10_000;
    while (alive(trainer as number) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(alive(trainer as number)).toBe(false);
    expect(loadCheckpoint(join(out, "checkpoint.safetensors")).epoch).toBeGreaterThanOrEqual(1);
  }, 120_000);
});

const execFileAsync = promisify(execFile);

/** Run `npm run train:mnist -- args` as a user would (through tsx), returning its output and exit code. */
async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ["--import", "tsx", "src/train-mnist/cli.ts", ...args],
      {
        env: { ...process.env, ELBO_BACKEND: "" },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("npm run train:mnist", () => {
  it("--help lists the flags", async () => {
    const { code, stdout } = await runCli(["--help"]);
    expect(code).toBe(0);
    for (const flag of [
      "--epochs",
      "--batch-size",
      "--lr",
      "--latent",
      "--hidden",
      "--seed",
      "--limit",
      "--data",
      "--out",
      "--backend",
      "--resume",
      "--eval-only",
      "--iw-k",
      "--iw-images",
    ]) {
      expect(stdout).toContain(flag);
    }
  }, 30_000);

  it("a bad value gets a message naming the flag and a non-zero exit", async () => {
    for (const [args, pattern] of [
      [["--epochs", "zero"], /--epochs must be a positive integer, got "zero"/],
      [["--lr", "-1"], /--lr must be a positive number/],
      [["--backend", "quantum"], /unknown backend "quantum"/],
      [["--data", "/nonexistent-elbo-data"], /nonexistent-elbo-data/],
      [["--resume", "missing.safetensors"], /missing\.safetensors: checkpoint not found/],
    ] as [string[], RegExp][]) {
      const { code, stderr } = await runCli(args);
      expect(code, args.join(" ")).not.toBe(0);
      expect(stderr).toMatch(pattern);
    }
  }, 60_000);

  it("trains, writes the report, and --resume continues to the same losses", async () => {
    const dir = tempDir("elbo-cli-");
    const common = ["--limit", "256", "--latent", "3", "--hidden", "16", "--iw-k", "4", "--iw-images", "20"];
    const straight = await runCli([...common, "--epochs", "2", "--out", join(dir, "straight")]);
    expect(straight.code, straight.stderr).toBe(0);
    expect(straight.stdout).toMatch(/^epoch 1\/2 {2}loss \d+\.\d\d {2}\d+\.\d s$/m);
    expect(straight.stdout).toMatch(/^epoch 2\/2 {2}loss \d+\.\d\d {2}\d+\.\d s$/m);
    for (const f of [
      "metrics.json",
      "checkpoint.safetensors",
      "reconstructions.png",
      "samples.png",
      "latent.png",
      "loss.png",
    ]) {
      expect(existsSync(join(dir, "straight", f)), f).toBe(true);
    }

    const half = await runCli([...common, "--epochs", "1", "--out", join(dir, "half")]);
    expect(half.code, half.stderr).toBe(0);
    const resumed = await runCli([
      "--resume",
      join(dir, "half", "checkpoint.safetensors"),
      "--epochs",
      "2",
      "--iw-k",
      "4",
      "--iw-images",
      "20",
      "--out",
      join(dir, "resumed"),
    ]);
    expect(resumed.code, resumed.stderr).toBe(0);

    const read = (run: string) => JSON.parse(readFileSync(join(dir, run, "metrics.json"), "utf8"));
    const a = read("straight");
    const b = read("resumed");
    expect(b.epochs.map((e: { loss: number }) => e.loss)).toEqual(
      a.epochs.map((e: { loss: number }) => e.loss),
    );
    expect(b.test.negativeElbo.loss).toBe(a.test.negativeElbo.loss);
    expect(a.test.iwae.k).toBe(4);
    expect(a.test.iwae.logLikelihood).toBeGreaterThanOrEqual(
      -a.test.negativeElbo.loss - 3 * a.test.iwae.standardError - 5,
    );
  }, 120_000);
});
