/**
 * The lock that makes a run the owner of its output folder (src/train-mnist/lock.ts), with real
 * processes as owners: a live one keeps it, a dead one's lock is taken over, a pid now used by
 * another process (a different start time) counts as dead, and a process that exits without
 * releasing it still removes it. (concurrent-runs.test.ts runs two real trainings into one folder.)
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { LOCK_FILE, lockOutputFolder } from "../../src/train-mnist/lock.ts";

const root = mkdtempSync(join(tmpdir(), "elbo-lock-"));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});
let folders = 0;
const folder = () => mkdtempSync(join(root, `f${folders++}-`));

/** The start time (field 22 of /proc/<pid>/stat) of a process. */
const startOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
};

function sleeper(): ChildProcess {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  onTestFinished(() => {
    child.kill("SIGKILL");
  });
  return child;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((done) => child.on("exit", done));
  return child.pid as number;
}

const writeLock = (dir: string, owner: object) => writeFileSync(join(dir, LOCK_FILE), JSON.stringify(owner));

describe.runIf(process.platform === "linux")("lockOutputFolder", () => {
  it("takes a free folder's lock, holding this process's pid, start and host, and releases it", () => {
    const dir = folder();
    const release = lockOutputFolder(dir, "--out");
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8"))).toEqual({
      pid: process.pid,
      start: startOf(process.pid),
      host: hostname(),
    });
    release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    // Released, it can be taken again; twice at once in one process, it cannot.
    const again = lockOutputFolder(dir, "--out");
    expect(() => lockOutputFolder(dir, "--out")).toThrow(`another run (pid ${process.pid})`);
    again();
  });

  it("refuses a folder a live process holds, naming the folder, the pid and the lock", () => {
    const dir = folder();
    const owner = sleeper().pid as number;
    writeLock(dir, { pid: owner, start: startOf(owner), host: hostname() });
    expect(() => lockOutputFolder(dir, "--out")).toThrow(
      `--out ${dir}: another run (pid ${owner}) is writing into this folder; wait for it to end or choose another folder (its lock is ${join(dir, LOCK_FILE)})`,
    );
    // Another host's run cannot be looked at: it is taken to be alive, and the host is named.
    writeLock(dir, { pid: 1, start: "1", host: "elsewhere" });
    expect(() => lockOutputFolder(dir, "--out")).toThrow("another run (pid 1 on elsewhere)");
  });

  it("takes over the lock of a process that is gone, or whose pid another process now has", async () => {
    const gone = folder();
    writeLock(gone, { pid: await deadPid(), start: "123", host: hostname() });
    lockOutputFolder(gone, "--out")();

    const reused = folder();
    const other = sleeper().pid as number;
    writeLock(reused, { pid: other, start: String(Number(startOf(other)) - 1), host: hostname() });
    const release = lockOutputFolder(reused, "--out");
    expect(JSON.parse(readFileSync(join(reused, LOCK_FILE), "utf8")).pid).toBe(process.pid);
    release();
  });

  it("takes over a lock left unreadable (its maker died before writing it) once it is old, not before", () => {
    const dir = folder();
    writeFileSync(join(dir, LOCK_FILE), "");
    // Fresh: another run may be writing it this instant.
    expect(() => lockOutputFolder(dir, "--out")).toThrow(
      /could not take the lock .*: other runs keep taking it/,
    );
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(join(dir, LOCK_FILE), old, old);
    lockOutputFolder(dir, "--out")();
  });

  it("is removed when its process exits without releasing it", () => {
    const dir = folder();
    const lock = resolve("src/train-mnist/lock.ts");
    execFileSync(process.execPath, [
      "--import",
      "tsx",
      "-e",
      `import(${JSON.stringify(lock)}).then((m) => { m.lockOutputFolder(${JSON.stringify(dir)}, "--out"); process.exit(0); })`,
    ]);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it("release leaves alone a lock that is no longer this process's", () => {
    const dir = folder();
    const release = lockOutputFolder(dir, "--out");
    writeLock(dir, { pid: 1, start: "1", host: hostname() });
    release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
  });
});
