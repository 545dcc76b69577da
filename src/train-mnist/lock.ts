/**
 * A run owns its output folder while it runs: two runs into one folder would replace each other's
 * checkpoint and report, and both say they succeeded. The owner is written in a lock file,
 * `.train-mnist.lock` (made with O_EXCL, so two runs cannot both make it), as the process id, its
 * start time and the host. A second run is refused, naming the folder and that process.
 *
 * A run killed with `kill -9` cannot remove its lock: the next run finds the process gone (or its
 * pid reused by another, whose start time differs) and takes the lock over. Taking over renames
 * the stale lock aside first and checks it is the one it judged stale, so that of two runs taking
 * over at once, one wins and the other sees the winner's lock.
 */
import {
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export const LOCK_FILE = ".train-mnist.lock";

interface Owner {
  pid: number;
  /** Clock ticks from boot to the process's start (Linux), or null where /proc is not there. */
  start: string | null;
  host: string;
}

/** This process's start time from /proc/<pid>/stat (field 22), or null without /proc. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether `owner` still runs: on another host it cannot be known, so it is taken to. */
function running(owner: Owner): boolean {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false; // EPERM: alive, another user's
  }
  // The same pid, started at another time: the owner died and its pid went to a new process.
  const now = startTime(owner.pid);
  return owner.start === null || now === null || now === owner.start;
}

function readOwner(path: string): Owner | null {
  try {
    const owner = JSON.parse(readFileSync(path, "utf8")) as Owner;
    return Number.isSafeInteger(owner.pid) && typeof owner.host === "string" ? owner : null;
  } catch {
    return null;
  }
}

/**
 * Take the lock of `dir` for this process, or throw naming `flag`, the folder and the run that
 * holds it. Returns the release, which removes the lock if it is still this process's; it also
 * runs if the process exits first.
 */
export function lockOutputFolder(dir: string, flag: string): () => void {
  const path = join(dir, LOCK_FILE);
  const me: Owner = { pid: process.pid, start: startTime(process.pid), host: hostname() };
  const text = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST")
        throw new Error(`${flag} ${dir}: cannot make the lock file ${path} (${(e as Error).message})`);
      const owner = readOwner(path);
      if (owner === null) {
        // Unreadable: another run is writing it this instant, or died between making and writing
        // it (then it stays unreadable, and is stale once it is a few seconds old).
        if (ageInSeconds(path) > 5) takeOver(path, null);
        else pause(100);
        continue;
      }
      if (running(owner)) {
        const where = owner.host === me.host ? "" : ` on ${owner.host}`;
        throw new Error(
          `${flag} ${dir}: another run (pid ${owner.pid}${where}) is writing into this folder; wait for it to end or choose another folder (its lock is ${path})`,
        );
      }
      takeOver(path, owner);
      continue;
    }
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const release = () => {
      process.off("exit", release);
      const owner = readOwner(path);
      if (owner?.pid === me.pid && owner.host === me.host) rmSync(path, { force: true });
    };
    process.on("exit", release);
    return release;
  }
  throw new Error(`${flag} ${dir}: could not take the lock ${path}: other runs keep taking it`);
}

function ageInSeconds(path: string): number {
  try {
    return (Date.now() - statSync(path).mtimeMs) / 1000;
  } catch {
    return 0;
  }
}

/** Wait `ms` milliseconds without returning to the event loop (the lock is taken synchronously). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Remove a stale lock, unless another run took it over first (then its lock is put back). */
function takeOver(path: string, stale: Owner | null): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // already moved by another run: look again
  }
  const moved = readOwner(aside);
  if (moved !== null && (moved.pid !== stale?.pid || moved.start !== stale?.start)) {
    // A live run's fresh lock: put it back (link fails if yet another has appeared meanwhile).
    try {
      linkSync(aside, path);
    } catch {}
  }
  rmSync(aside, { force: true });
}
