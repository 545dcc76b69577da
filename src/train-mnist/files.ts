/**
 * The run's files on disk (Node only): writes that are atomic for real, reads that only accept
 * regular files of a known size, and output folders checked before any work starts.
 *
 * An atomic write goes to a temporary file beside the target, loops until every byte is written
 * (a full disk gives short writes, not always an exception), fsyncs the file, renames it over the
 * target and fsyncs the folder, so that after a crash or a full disk readers find either the whole
 * previous file or the whole new one. A run killed mid-write leaves `<name>.tmp-<pid>` behind; the
 * next run in that folder removes it.
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  type Stats,
  statfsSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { ByteSource } from "../nn/safetensors.ts";

/** How the bytes reach the file: `fs.writeSync`'s shape, so that tests can inject short writes. */
export type WriteFunction = (fd: number, bytes: Uint8Array, offset: number, length: number) => number;

/**
 * Bytes per read or write call: below 2 GiB, since one read(2) or write(2) on Linux moves at most
 * 0x7ffff000 bytes and Node refuses a length of 2³¹ or more.
 */
const IO_CHUNK = 1 << 30;

/** The suffix of a temporary file, with the writer's process id. */
const temporaryPattern = /\.tmp-(\d+)$/;

/**
 * Write `bytes` (one array, a string, or parts written one after another, for a file larger than
 * one array holds) to `path` so that readers see either the old file or the whole new one. On any
 * failure the temporary file is removed, the previous file is left as it was, and the error names
 * `path` and the reason.
 */
export function writeFileAtomic(
  path: string,
  bytes: Uint8Array | string | readonly Uint8Array[],
  options: { write?: WriteFunction } = {},
): void {
  const write = options.write ?? writeSync;
  const parts =
    typeof bytes === "string" ? [Buffer.from(bytes)] : bytes instanceof Uint8Array ? [bytes] : bytes;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const temporary = `${path}.tmp-${process.pid}`;
  const failure = (e: unknown) =>
    new Error(`${path}: could not be written (${reason(e)}); the previous file, if any, is unchanged`);
  let fd: number;
  try {
    fd = openSync(temporary, "w", 0o644);
  } catch (e) {
    throw failure(e);
  }
  try {
    let written = 0;
    for (const part of parts) {
      let at = 0;
      while (at < part.length) {
        const n = write(fd, part, at, Math.min(IO_CHUNK, part.length - at));
        if (!(n > 0)) {
          throw new Error(
            `the file system took ${written} of ${total} bytes and then no more: is the disk full?`,
          );
        }
        at += n;
        written += n;
      }
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw failure(e);
  }
  try {
    closeSync(fd);
    renameSync(temporary, path);
  } catch (e) {
    rmSync(temporary, { force: true });
    throw failure(e);
  }
  // The rename lives in the folder's entries: sync them too, or a crash can forget the new name.
  const folder = openSync(dirname(path), "r");
  try {
    fsyncSync(folder);
  } finally {
    closeSync(folder);
  }
}

/**
 * Remove the temporary files (`*.tmp-<pid>`) that runs killed mid-write left in `dir`, skipping
 * those of processes still alive. Returns the names removed.
 */
export function removeStaleTemporaries(dir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const pid = temporaryPattern.exec(name)?.[1];
    // This process is alive too, so its own temporaries are kept.
    if (pid === undefined || processAlive(Number(pid))) continue;
    // Only files are temporaries: a folder that happens to have such a name is someone's.
    if (!isRegularFile(join(dir, name))) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, but another user's
  }
}

/** File systems that are views of the kernel, not storage: writing a run there cannot work. */
const SPECIAL_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x1cd1, "devpts"],
  [0x64626720, "debugfs"],
  [0x74726163, "tracefs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0x73636673, "securityfs"],
  [0xcafe4a11, "bpf"],
  [0x6165676c, "pstore"],
  [0x62656570, "configfs"],
]);

/**
 * Make `dir` (and its missing parents) and check, before any work starts, that a run can write
 * there: not on a kernel file system such as /proc, a folder and not a file, writable, with room
 * for a byte (a full disk fails now, not at the first checkpoint). Each folder
 * is made one at a time, so a file system that refuses every mkdir fails at once instead of
 * spinning (Node's recursive mkdir loops forever on /proc). Stale temporary files are removed.
 * `flag` names the setting in errors. Returns the folders it made, outermost first.
 */
export function prepareOutputFolder(dir: string, flag: string): string[] {
  const target = resolve(dir);
  const missing: string[] = [];
  let existing = target;
  // lstat, not exists: a dangling symbolic link is there, though it leads nowhere.
  while (!isThere(existing)) {
    missing.unshift(existing);
    existing = dirname(existing);
  }
  try {
    statSync(existing);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ELOOP")
      throw new Error(
        `${flag} ${dir}: ${existing} is a symbolic link that loops back on itself; name a folder`,
      );
    if (code === "ENOENT")
      throw new Error(
        `${flag} ${dir}: ${existing} is a symbolic link to ${readlinkSync(existing)}, which does not exist; make that folder or name another`,
      );
    throw new Error(`${flag} ${dir}: cannot look at ${existing} (${reason(e)})`);
  }
  const special = SPECIAL_FILE_SYSTEMS.get(statfsSync(existing).type);
  if (special !== undefined) {
    throw new Error(`${flag} ${dir}: ${existing} is on the ${special} file system, which cannot hold files`);
  }
  if (!statSync(existing).isDirectory()) {
    throw new Error(`${flag} ${dir}: ${existing} exists and is not a folder`);
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder);
    } catch (e) {
      throw new Error(`${flag} ${dir}: cannot make the folder ${folder} (${reason(e)})`);
    }
  }
  const probe = join(target, `.write-check.tmp-${process.pid}`);
  try {
    writeFileAtomic(probe, "\n");
    rmSync(probe);
  } catch (e) {
    throw new Error(`${flag} ${dir}: the folder is not writable (${reason(e)})`);
  }
  removeStaleTemporaries(target);
  return missing;
}

/** Remove the folders of `made` (outermost first) that are still empty, innermost first. */
export function removeEmptyFolders(made: readonly string[]): void {
  for (const folder of [...made].reverse()) {
    try {
      rmdirSync(folder);
    } catch {
      return; // not empty (or gone): it and the folders above it stay
    }
  }
}

/**
 * Check, before any work, that the run can put each of `names` into `dir`: what is there already
 * under that name (or this process's temporary for it) must be a regular file that a rename can
 * replace (a symbolic link is replaced itself). A folder, a FIFO or an immutable file would
 * otherwise be found only when the file is written, after an epoch's work.
 */
export function checkOutputNames(dir: string, names: readonly string[], flag: string): void {
  for (const name of names) {
    for (const path of [join(dir, name), `${join(dir, name)}.tmp-${process.pid}`]) {
      let stats: Stats;
      try {
        stats = lstatSync(path);
      } catch {
        continue; // not there: nothing in the way
      }
      if (stats.isSymbolicLink()) continue;
      if (!stats.isFile())
        throw new Error(
          `${flag} ${dir}: ${path} is ${kindOf(stats)}, where the run writes a file; move it away`,
        );
      try {
        closeSync(openSync(path, "r+"));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // Read-only permissions do not stop a rename in a writable folder; the immutable and
        // append-only attributes (EPERM) and a read-only mount (EROFS) do.
        if (code === "EPERM" || code === "EROFS")
          throw new Error(
            `${flag} ${dir}: ${path} cannot be replaced (${code}: immutable, append-only or on a read-only mount); move it away or choose another folder`,
          );
      }
    }
  }
}

/** "a checkpoint", "an IDX file": an initialism is read letter by letter ("an F…", "an S…"). */
export function aOrAn(what: string): string {
  const initialism = /^[A-Z]{2}/.test(what);
  const vowelSound = initialism ? /^[AEFHILMNORSX]/.test(what) : /^[aeiou]/i.test(what);
  return `${vowelSound ? "an" : "a"} ${what}`;
}

/**
 * The bytes of a regular file, refusing anything else (a FIFO would block, /dev/zero would never
 * end) before reading. The size comes from fstat and bounds the read; `maxBytes` bounds the size.
 */
export function readRegularFile(path: string, options: { maxBytes?: number; what?: string } = {}): Buffer {
  return withRegularFile(path, options, (source) => {
    const bytes = Buffer.allocUnsafe(source.size);
    source.read(bytes, 0);
    return bytes;
  });
}

/**
 * Open a regular file (refusing anything else, and a size over `maxBytes`, before reading) and
 * hand `use` a ByteSource over it, which reads any range of any size, in pieces; closed afterwards.
 */
export function withRegularFile<T>(
  path: string,
  options: { maxBytes?: number; what?: string },
  use: (source: ByteSource) => T,
): T {
  const what = options.what ?? "file";
  if (!existsSync(path)) throw new Error(`${path}: ${what} not found`);
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can refuse it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new Error(`${path}: cannot open the ${what} (${reason(e)})`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile())
      throw new Error(`${path}: not a regular file but ${kindOf(stats)}; ${aOrAn(what)} is expected`);
    const max = options.maxBytes ?? Number.MAX_SAFE_INTEGER;
    if (stats.size > max)
      throw new Error(`${path}: ${stats.size} bytes, more than the ${max} ${aOrAn(what)} may have`);
    return use({
      size: stats.size,
      read: (into, position) => readFully(fd, into, position, path),
    });
  } finally {
    closeSync(fd);
  }
}

/** Fill `into` from `position` on, IO_CHUNK bytes at a time. */
function readFully(fd: number, into: Uint8Array, position: number, path: string): void {
  let at = 0;
  while (at < into.length) {
    const n = readSync(fd, into, at, Math.min(IO_CHUNK, into.length - at), position + at);
    if (n === 0)
      throw new Error(
        `${path}: the file shrank while being read (it ended at byte ${position + at}, ${into.length - at} bytes short)`,
      );
    at += n;
  }
}

/** What a file that is not a regular file is, in words. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return "a folder";
  if (stats.isFIFO()) return "a named pipe (FIFO)";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isSocket()) return "a socket";
  return "a block device";
}

/** Whether there is an entry at `path`, even a symbolic link that leads nowhere. */
function isThere(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
