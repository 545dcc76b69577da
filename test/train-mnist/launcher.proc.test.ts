/**
 * How train:mnist watches its launchers in the cases real processes cannot stage on demand, with
 * /proc played by a table held here: a pid reused by another process, a process already dead
 * ("X"), a process whose environment cannot be read (another user's), and a system without /proc
 * at all, where only the parent is watched. (launcher.test.ts watches real processes.)
 */
import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { launchers, watchLaunchers } from "../../src/train-mnist/launcher.ts";

interface FakeProcess {
  ppid: number;
  start: string;
  state: string;
  name: string;
  /** The environment, or null when it cannot be read (EACCES). */
  environment: string | null;
  commandLine: string;
}

const proc = vi.hoisted(() => ({ table: null as Map<number, FakeProcess> | null }));

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const fail = (code: string, path: string) => Object.assign(new Error(`${code}: ${path}`), { code });
  return {
    ...fs,
    readFileSync: (path: string, encoding: BufferEncoding) => {
      const match = /^\/proc\/(\d+)\/(stat|environ|cmdline)$/.exec(String(path));
      if (match === null) return fs.readFileSync(path, encoding);
      // No table: a system without /proc.
      const p = proc.table?.get(Number(match[1]));
      if (p === undefined) throw fail("ENOENT", path);
      if (match[2] === "environ") {
        if (p.environment === null) throw fail("EACCES", path);
        return p.environment;
      }
      if (match[2] === "cmdline") return p.commandLine;
      // "pid (name) state ppid", 17 more fields, then the start time (field 22 of proc(5)).
      return `${match[1]} (${p.name}) ${p.state} ${p.ppid} ${"0 ".repeat(17)}${p.start} 0 0\n`;
    },
  };
});

afterEach(() => {
  proc.table = null;
});

const npm = "npm_lifecycle_event=train:mnist\0";

/** /proc with this process (no wrapper, started by pid 1) and the processes given. */
function withProc(processes: Record<number, Partial<FakeProcess>>): Map<number, FakeProcess> {
  const plain = { ppid: 1, start: "100", state: "S", name: "sleep", environment: "", commandLine: "sleep\0" };
  proc.table = new Map([
    [process.pid, { ...plain, name: "node" }],
    ...Object.entries(processes).map(([pid, p]) => [Number(pid), { ...plain, ...p }] as const),
  ]);
  return proc.table;
}

/** Watch from `parent`, and stop watching when the test ends. */
function watch(parent: number): { gone: string[]; check: () => void } {
  const gone: string[] = [];
  const watcher = watchLaunchers((who) => gone.push(who), parent);
  onTestFinished(() => watcher.stop());
  return { gone, check: watcher.check };
}

describe("launchers on /proc", () => {
  it("end at a process whose environment cannot be read: it is no wrapper", () => {
    withProc({
      10: { ppid: 20, environment: npm, name: "tsx" },
      20: { ppid: 30, environment: null, name: "other user's" },
      30: { ppid: 1, environment: npm, name: "npm" },
    });
    expect(launchers(10).map((p) => [p.pid, p.name])).toEqual([
      [10, "tsx"],
      [20, "other user's"],
    ]);
  });
});

describe("watchLaunchers on /proc", () => {
  it("counts a launcher whose pid now belongs to another process as gone", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    vi.setSystemTime(5000);
    const table = withProc({ 10: { environment: npm, start: "500" } });
    const { gone, check } = watch(10);
    check();
    expect(gone).toEqual([]);
    // The launcher exited and a new process took its pid: same pid, a later start.
    table.set(10, { ...(table.get(10) as FakeProcess), start: "900" });
    vi.setSystemTime(6000);
    check();
    expect(gone).toEqual(["sleep (pid 10)"]);
  });

  it("counts a launcher that is dead (X) or a zombie (Z) as gone, and one that sleeps or runs as alive", () => {
    for (const state of ["X", "Z", "S", "R"]) {
      withProc({ 10: { environment: npm, state } });
      const { gone, check } = watch(10);
      check();
      expect(gone, state).toEqual(state === "X" || state === "Z" ? ["sleep (pid 10)"] : []);
    }
  });
});

describe("watchLaunchers without /proc", () => {
  it("watches the parent alone: gone once this process's parent is another", () => {
    const stays = watch(process.ppid);
    stays.check();
    expect(stays.gone).toEqual([]);
    // A watch from a pid that is not the parent now: the parent it was started from has exited.
    const exited = watch(424_242);
    exited.check();
    expect(exited.gone).toEqual(["parent (pid 424242)"]);
  });
});

describe("watchLaunchers' timer", () => {
  it("does not keep the process alive, and is cleared once the launcher is gone or the watch stopped", () => {
    withProc({ 10: { environment: npm } });
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const stopped = watchLaunchers(() => {}, 10);
    expect(vi.getTimerCount()).toBe(1);
    stopped.stop();
    expect(vi.getTimerCount()).toBe(0);

    const gone: string[] = [];
    watchLaunchers((who) => gone.push(who), 10);
    (proc.table as Map<number, FakeProcess>).delete(10);
    vi.advanceTimersByTime(1000);
    expect(gone).toEqual(["sleep (pid 10)"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("is unreferenced", () => {
    withProc({ 10: { environment: npm } });
    const setInterval = vi.spyOn(globalThis, "setInterval");
    onTestFinished(() => {
      setInterval.mockRestore();
    });
    watch(10);
    const timer = setInterval.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
  });
});
