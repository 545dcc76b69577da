/**
 * Signals on the real process tree of a run: `npm run train:mnist` (npm, then the trainer: the
 * script execs node, so no shell sits between them to swallow the signal), and `tsx cli.ts` (tsx,
 * then its child, the trainer). SIGINT or SIGTERM sent to any one of them, or to the whole process
 * group as a terminal's Ctrl-C does, stops the run within a second or two, between steps: the
 * last checkpoint is kept and loads, metrics.json says what was done, the exit code is 130 or 143,
 * and no process of the run is left. (SIGTERM to the trainer used to take effect only once
 * training ended, and SIGINT to npm alone stopped nothing.)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../src/train-mnist/checkpoint.ts";
import { writeMnistFolder } from "../fixtures/mnist-folder.ts";

const onLinux = process.platform === "linux";
const repo = resolve(import.meta.dirname, "../..");
const root = mkdtempSync(join(tmpdir(), "elbo-signals-"));
const groups: number[] = [];
afterAll(() => {
  for (const g of groups) {
    try {
      process.kill(-g, "SIGKILL");
    } catch {}
  }
  rmSync(root, { recursive: true, force: true });
});
const data = writeMnistFolder(join(root, "data"), [128, 28, 28], [10, 28, 28]);
const flags = (out: string) => [
  ...["--data", data, "--hidden", "8", "--latent", "2", "--batch-size", "16", "--iw-k", "2"],
  ...["--iw-images", "3", "--epochs", "100000", "--backend", "cpu", "--out", out],
];

/** The process ids of `pid`'s process group (setsid made it the leader). */
function group(pid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return Number(fields[2]) === pid && fields[0] !== "Z";
      } catch {
        return false;
      }
    });
}

const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");

interface Started {
  top: ChildProcess;
  out: string;
  stdout: () => string;
  stderr: () => string;
  /** The process that trains: the one whose program is cli.ts. */
  trainer: () => number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Start a run that would go on for ever, as `npm run train:mnist` or `tsx`, and wait for its second epoch. */
async function start(how: "npm" | "tsx", out: string): Promise<Started> {
  const [command, args] =
    how === "npm"
      ? ["npm", ["run", "-s", "train:mnist", "--", ...flags(out)]]
      : [join(repo, "node_modules/.bin/tsx"), [join(repo, "src/train-mnist/cli.ts"), ...flags(out)]];
  // detached: a process group of its own, as a shell gives a job (and the group can be signalled).
  const top = spawn(command, args, { cwd: repo, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  groups.push(top.pid as number);
  let [stdout, stderr] = ["", ""];
  top.stdout?.on("data", (c) => {
    stdout += c;
  });
  top.stderr?.on("data", (c) => {
    stderr += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((done) =>
    top.once("exit", (code, signal) => done({ code, signal, at: performance.now() })),
  );
  const deadline = Date.now() + 90_000;
  while (!/^epoch 2\//m.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(stdout, stderr).toMatch(/^epoch 2\//m);
  const trainer = () => {
    const found = group(top.pid as number).filter(
      (p) => /cli\.ts/.test(commandLine(p)) && !/\.bin\/tsx|npm/.test(commandLine(p)),
    );
    expect(found, "the trainer").toHaveLength(1);
    return found[0];
  };
  return { top, out, stdout: () => stdout, stderr: () => stderr, trainer, exited };
}

/** Send `signal` to `target` and check the run stopped as it should, within `seconds`. */
async function expectStopped(run: Started, target: number, signal: "SIGINT" | "SIGTERM", seconds = 3) {
  const leader = run.top.pid as number;
  const sent = performance.now();
  process.kill(target, signal);
  const { code, at } = await run.exited;
  expect((at - sent) / 1000, run.stderr()).toBeLessThan(seconds);
  expect(code, run.stderr()).toBe(signal === "SIGINT" ? 130 : 143);
  expect(run.stderr()).toMatch(
    new RegExp(
      `train:mnist: stopped by ${signal} (during epoch \\d+, after step \\d+/8|after epoch \\d+'s checkpoint): the last checkpoint, .*checkpoint\\.safetensors \\(epoch (\\d+)\\), is kept`,
    ),
  );
  const epoch = Number(/\(epoch (\d+)\), is kept/.exec(run.stderr())?.[1]);
  expect(loadCheckpoint(join(run.out, "checkpoint.safetensors")).epoch).toBe(epoch);
  const metrics = JSON.parse(readFileSync(join(run.out, "metrics.json"), "utf8"));
  expect(metrics.epochs).toHaveLength(epoch);
  expect(metrics.stopped).toMatch(new RegExp(`^by ${signal} `));
  expect(existsSync(join(run.out, ".train-mnist.lock"))).toBe(false);
  // Nothing of the run is left running.
  for (let tries = 0; tries < 50 && group(leader).length > 0; tries++)
    await new Promise((r) => setTimeout(r, 100));
  expect(group(leader).map(commandLine)).toEqual([]);
}

let runs = 0;
const out = () => join(root, `run-${runs++}`);

describe.runIf(onLinux)("a signal to a process of `npm run train:mnist`", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal} to npm alone stops the trainer between steps and npm exits ${signal === "SIGINT" ? 130 : 143}`, async () => {
      const run = await start("npm", out());
      await expectStopped(run, run.top.pid as number, signal);
    }, 120_000);

    it(`${signal} to the trainer alone stops it between steps, and npm passes on its exit code`, async () => {
      const run = await start("npm", out());
      await expectStopped(run, run.trainer(), signal);
    }, 120_000);
  }

  it("SIGINT to the whole process group (Ctrl-C in a terminal) stops it once, cleanly", async () => {
    const run = await start("npm", out());
    await expectStopped(run, -(run.top.pid as number), "SIGINT");
  }, 120_000);
});

describe.runIf(onLinux)("a signal to a process of `tsx src/train-mnist/cli.ts`", () => {
  it("SIGTERM to tsx, which passes it on to the trainer", async () => {
    const run = await start("tsx", out());
    await expectStopped(run, run.top.pid as number, "SIGTERM");
  }, 120_000);

  it("SIGINT to the trainer under tsx", async () => {
    const run = await start("tsx", out());
    await expectStopped(run, run.trainer(), "SIGINT");
  }, 120_000);
});
