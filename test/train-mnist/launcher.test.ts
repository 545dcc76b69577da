/**
 * How train:mnist finds and watches the processes that launched it (Linux, from /proc), with
 * processes started here standing in for npm and tsx: a `sleep` that carries npm's script
 * environment or is named like tsx is a wrapper; one that does neither is not.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { launchers, watchLaunchers } from "../../src/train-mnist/launcher.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";

const onLinux = process.platform === "linux";

/** The environment without npm's script variables, so that a child of this test is no wrapper by it. */
const plainEnvironment = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith("npm_")),
);

function start(
  command: string,
  args: string[],
  options: { npm?: boolean; argv0?: string } = {},
): ChildProcess {
  const child = spawn(command, args, {
    env: options.npm ? { ...plainEnvironment, npm_lifecycle_event: "train:mnist" } : plainEnvironment,
    argv0: options.argv0,
    stdio: "ignore",
  });
  onTestFinished(() => {
    child.kill("SIGKILL");
  });
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until the child runs `name` (spawn forks first, then executes the program). */
async function running(child: ChildProcess, name = "sleep"): Promise<number> {
  const pid = child.pid as number;
  for (let tries = 0; tries < 500; tries++) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === name) return pid;
    } catch {}
    await sleep(10);
  }
  throw new Error(`process ${pid} never ran ${name}`);
}

const dir = sharedTempDir("elbo-launcher-");

describe.runIf(onLinux)("launchers", () => {
  it("follow wrappers up from the parent, each with its name, parent, state and start time", async () => {
    // A name with spaces and parentheses, as /proc/<pid>/stat's "pid (name) state ..." may hold.
    const odd = join(dir, "a) (b c");
    symlinkSync("/bin/sleep", odd);
    const wrapper = start(odd, ["30"], { npm: true });
    const chain = launchers(await running(wrapper, "a) (b c"));
    // The wrapper, then this test's process, its parent (and further up if the suite runs under npm).
    expect(chain.length).toBeGreaterThanOrEqual(2);
    const stat = readFileSync(`/proc/${wrapper.pid}/stat`, "utf8");
    expect(chain[0]).toEqual({
      pid: wrapper.pid,
      ppid: process.pid,
      start: stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19],
      state: expect.stringMatching(/^[RS]$/), // running or asleep
      name: "a) (b c",
    });
    expect(chain[1]).toMatchObject({ pid: process.pid, ppid: process.ppid, name: expect.any(String) });
  });

  it("are tsx, however it is started, and npm's script processes; a process that is neither stops the chain", async () => {
    for (const argv0 of ["/x/node_modules/tsx/dist/cli.mjs", "tsx", "/usr/bin/tsx.cmd"]) {
      const pid = await running(start("sleep", ["30"], { argv0 }));
      expect(
        launchers(pid)
          .map((p) => p.pid)
          .slice(0, 2),
        argv0,
      ).toEqual([pid, process.pid]);
    }
    for (const argv0 of ["/x/tsxtra", "/x/nottsx", "sleep"]) {
      const child = start("sleep", ["30"], { argv0 });
      // Alone, a process that is no wrapper is nothing to watch.
      expect(launchers(await running(child)), argv0).toEqual([]);
    }
    expect(launchers(999_999_999)).toEqual([]);
  });
});

describe.runIf(onLinux)("launchers, more", () => {
  it("see npm's variable wherever it is in the environment, and only that variable", async () => {
    const first = spawn("sleep", ["30"], {
      env: { npm_lifecycle_event: "train:mnist", ...plainEnvironment },
    });
    const lookalike = spawn("sleep", ["30"], { env: { ...plainEnvironment, my_npm_lifecycle_event: "x" } });
    onTestFinished(() => {
      first.kill("SIGKILL");
      lookalike.kill("SIGKILL");
    });
    expect(launchers(await running(first))[0]?.pid).toBe(first.pid);
    expect(launchers(await running(lookalike))).toEqual([]);
  });

  it("a wrapper whose own launcher has exited (adopted by pid 1) is watched alone", async (ctx) => {
    // The shell starts sleep in the background and exits: sleep is adopted by pid 1 (or a subreaper).
    const shell = spawn("sh", ["-c", "sleep 30 >/dev/null 2>&1 & echo $!"], {
      env: { ...plainEnvironment, npm_lifecycle_event: "train:mnist" },
    });
    // Read to "close", when stdout is drained: at "exit" the pid may not have arrived yet.
    const out = await new Promise<string>((resolve) => {
      let text = "";
      shell.stdout.on("data", (chunk) => (text += chunk));
      shell.once("close", () => resolve(text));
    });
    const orphan = Number(out.trim());
    // Without a pid, Number("") is 0, and process.kill(0) would kill this whole process group.
    if (!(Number.isInteger(orphan) && orphan > 1)) throw new Error(`the shell printed no pid: "${out}"`);
    onTestFinished(() => {
      process.kill(orphan, "SIGKILL");
    });
    const parentOf = Number(readFileSync(`/proc/${orphan}/stat`, "utf8").split(") ")[1].split(" ")[1]);
    if (parentOf !== 1) {
      ctx.skip(); // adopted by a subreaper, which makes another chain
      return;
    }
    expect(launchers(orphan).map((p) => p.pid)).toEqual([orphan]);
  });
});

describe.runIf(onLinux)("watchLaunchers", () => {
  it("calls back once, naming the launcher, when one has exited", async () => {
    const wrapper = start("sleep", ["30"], { npm: true });
    await running(wrapper);
    const gone: string[] = [];
    const watch = watchLaunchers((who) => gone.push(who), wrapper.pid);
    onTestFinished(() => watch.stop());
    watch.check();
    expect(gone).toEqual([]);
    wrapper.kill("SIGKILL");
    await exited(wrapper);
    await sleep(1100); // check() looks at most once a second
    watch.check();
    expect(gone).toEqual([`sleep (pid ${wrapper.pid})`]);
    await sleep(1100);
    watch.check();
    expect(gone).toHaveLength(1);
  });

  it("counts a launcher that is a zombie (exited, not yet reaped) as gone", async () => {
    // The shell starts a short sleep and becomes a long one that never reaps it.
    const parent = start("sh", ["-c", "sleep 1 & exec sleep 30"], { npm: true });
    await running(parent);
    const children = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, "utf8").trim();
    const short = Number(children);
    expect(Number.isInteger(short) && short > 1, children).toBe(true);
    const stat = () => readFileSync(`/proc/${short}/stat`, "utf8");
    // Wait until the short one runs sleep (a forked shell is named sh until it executes it).
    for (let tries = 0; tries < 500 && !stat().includes("(sleep)"); tries++) await sleep(10);
    const gone: string[] = [];
    const watch = watchLaunchers((who) => gone.push(who), short);
    onTestFinished(() => watch.stop());
    for (let tries = 0; tries < 1000 && !/\) Z /.test(stat()); tries++) await sleep(10);
    expect(stat()).toMatch(/\) Z /);
    watch.check();
    expect(gone).toEqual([`sleep (pid ${short})`]);
  });

  it("looks again once a full second has passed since it last looked", async () => {
    const wrapper = start("sleep", ["30"], { npm: true });
    await running(wrapper);
    vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    vi.setSystemTime(5000);
    const gone: string[] = [];
    const watch = watchLaunchers((who) => gone.push(who), wrapper.pid);
    onTestFinished(() => watch.stop());
    watch.check();
    wrapper.kill("SIGKILL");
    await exited(wrapper);
    vi.setSystemTime(5999);
    watch.check();
    expect(gone).toEqual([]);
    vi.setSystemTime(6000);
    watch.check();
    expect(gone).toEqual([`sleep (pid ${wrapper.pid})`]);
  });

  it("looks again at most once a second, and not at all once stopped", async () => {
    const wrapper = start("sleep", ["30"], { npm: true });
    await running(wrapper);
    const gone: string[] = [];
    const watch = watchLaunchers((who) => gone.push(who), wrapper.pid);
    watch.check();
    wrapper.kill("SIGKILL");
    await exited(wrapper);
    watch.check(); // within the second: does not look
    expect(gone).toEqual([]);
    watch.stop();
    await sleep(1100);
    watch.check();
    expect(gone).toEqual([]);
  });
});
