/**
 * The run's files: atomic writes on a full disk (a real small tmpfs where the machine lets us mount
 * one, and an injected short write everywhere), stale temporary files, output folders that cannot
 * hold a run, and reads that refuse special files instead of hanging.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  aOrAn,
  prepareOutputFolder,
  readRegularFile,
  removeStaleTemporaries,
  type WriteFunction,
  writeFileAtomic,
} from "../../src/train-mnist/files.ts";
import { smallTmpfs } from "../fixtures/mounts.ts";
import { sharedTempDir, tempDir } from "../fixtures/temp-dir.ts";

const root = sharedTempDir("elbo-files-");

/** A folder holding a good previous file, as a run that already saved a checkpoint has. */
function folderWithPrevious(): { dir: string; file: string; previous: Buffer } {
  const dir = tempDir("elbo-run-");
  const file = join(dir, "checkpoint.safetensors");
  const previous = Buffer.alloc(1000, 7);
  writeFileAtomic(file, previous);
  return { dir, file, previous };
}

describe("writeFileAtomic", () => {
  it("on a real full disk (a 64 KiB tmpfs) fails naming the file, keeps the previous file, leaves no temporary", (ctx) => {
    const mount = smallTmpfs(64);
    if (mount === null) {
      ctx.skip(); // the injected short write below still runs
      return;
    }
    const file = join(mount, "checkpoint.safetensors");
    const previous = Buffer.alloc(8000, 3);
    writeFileAtomic(file, previous);
    // Node's writeSync returns a short count on a full tmpfs, without throwing.
    expect(() => writeFileAtomic(file, Buffer.alloc(200_000, 9))).toThrow(
      /checkpoint\.safetensors: could not be written \(.*(ENOSPC|disk full).*\); the previous file, if any, is unchanged/,
    );
    expect(readFileSync(file).equals(previous)).toBe(true);
    expect(readdirSync(mount)).toEqual(["checkpoint.safetensors"]);
  });

  it("loops on short writes until every byte is written", () => {
    const { file } = folderWithPrevious();
    const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => i % 251);
    let calls = 0;
    const dribble: WriteFunction = (fd, data, offset, length) => {
      calls++;
      return writeSync(fd, data, offset, Math.min(length, 777)); // at most 777 bytes a call
    };
    writeFileAtomic(file, bytes, { write: dribble });
    expect(calls).toBe(Math.ceil(10_000 / 777));
    expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
  });

  it("a short write then a full disk (injected) keeps the previous file and names the file", () => {
    const { dir, file, previous } = folderWithPrevious();
    let calls = 0;
    const fullDisk: WriteFunction = (fd, data, offset, length) => {
      if (calls++ === 0) return writeSync(fd, data, offset, Math.min(length, 100));
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
    };
    expect(() => writeFileAtomic(file, Buffer.alloc(5000, 1), { write: fullDisk })).toThrow(
      /checkpoint\.safetensors: could not be written \(ENOSPC: no space left on device, write\)/,
    );
    expect(readFileSync(file).equals(previous)).toBe(true);
    expect(readdirSync(dir)).toEqual(["checkpoint.safetensors"]);
  });

  it("a write that stops taking bytes partway says how many it took", () => {
    const { file, previous } = folderWithPrevious();
    let calls = 0;
    const write = (_fd: number, _data: Uint8Array, _at: number, length: number) =>
      calls++ === 0 ? Math.min(4, length) : 0;
    expect(() => writeFileAtomic(file, Buffer.alloc(10, 1), { write })).toThrow(
      /took 4 of 10 bytes and then no more: is the disk full\?/,
    );
    expect(readFileSync(file).equals(previous)).toBe(true);
  });

  it("a write that takes nothing (returns 0) fails instead of looping forever", () => {
    const { file, previous } = folderWithPrevious();
    expect(() => writeFileAtomic(file, Buffer.alloc(10, 1), { write: () => 0 })).toThrow(
      /took 0 of 10 bytes and then no more: is the disk full\?/,
    );
    expect(readFileSync(file).equals(previous)).toBe(true);
  });
});

describe("stale temporary files", () => {
  it("are removed when their writer is dead; a live writer's are kept", async () => {
    const dir = tempDir("elbo-stale-");
    const child = spawn(process.execPath, ["-e", ""]);
    const deadPid = child.pid as number;
    await new Promise((done) => child.on("exit", done));
    writeFileSync(join(dir, `checkpoint.safetensors.tmp-${deadPid}`), "half a checkpoint");
    writeFileSync(join(dir, `metrics.json.tmp-${process.pid}`), "mine, being written");
    writeFileSync(join(dir, "notes.tmp-x"), "not ours");
    expect(removeStaleTemporaries(dir)).toEqual([`checkpoint.safetensors.tmp-${deadPid}`]);
    expect(readdirSync(dir).sort()).toEqual([`metrics.json.tmp-${process.pid}`, "notes.tmp-x"]);
  });

  it("prepareOutputFolder removes them from the run's folder", async () => {
    const dir = tempDir("elbo-stale-");
    const child = spawn(process.execPath, ["-e", ""]);
    await new Promise((done) => child.on("exit", done));
    writeFileSync(join(dir, `checkpoint.safetensors.tmp-${child.pid}`), "x");
    prepareOutputFolder(dir, "--out");
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("prepareOutputFolder", () => {
  it("makes missing parents", () => {
    const dir = join(root, "a", "b", "c");
    prepareOutputFolder(dir, "--out");
    expect(existsSync(dir)).toBe(true);
  });

  it("refuses /proc at once (Node's recursive mkdir spins there forever)", () => {
    expect(() => prepareOutputFolder("/proc/elbo-run", "--out")).toThrow(
      /--out \/proc\/elbo-run: \/proc is on the proc file system, which cannot hold files/,
    );
    expect(() => prepareOutputFolder("/sys/elbo/run", "--out")).toThrow(/sysfs file system/);
  });

  it("refuses a file in the way, naming it", () => {
    const file = join(root, "plain-file");
    writeFileSync(file, "x");
    expect(() => prepareOutputFolder(join(file, "run"), "--out")).toThrow(
      /plain-file exists and is not a folder/,
    );
  });

  it("refuses a folder it cannot write, at once", (ctx) => {
    // Root writes into any folder whatever its mode; a read-only mount refuses root too.
    const readOnly = smallTmpfs(64, { readOnly: true });
    const dir = readOnly ?? join(root, "read-only");
    if (readOnly === null) {
      if (process.getuid?.() === 0) {
        ctx.skip();
        return;
      }
      mkdirSync(dir, { mode: 0o500 });
    }
    expect(() => prepareOutputFolder(dir, "--out")).toThrow(
      /--out .*: the folder is not writable \(.*(EROFS|EACCES)/,
    );
    expect(() => prepareOutputFolder(join(dir, "run"), "--out")).toThrow(
      /cannot make the folder .*run \(.*(EROFS|EACCES)/,
    );
  });
});

describe("readRegularFile", () => {
  it("refuses /dev/zero at once instead of reading forever", () => {
    expect(() => readRegularFile("/dev/zero", { what: "checkpoint" })).toThrow(
      "/dev/zero: not a regular file but a character device; a checkpoint is expected",
    );
  });

  it("refuses a named pipe without waiting for a writer", () => {
    const fifo = join(root, "pipe");
    execFileSync("mkfifo", [fifo]);
    expect(() => readRegularFile(fifo, { what: "checkpoint" })).toThrow(
      /pipe: not a regular file but a named pipe/,
    );
  });

  it("refuses a folder, a missing file, and a file over the size allowed", () => {
    expect(() => readRegularFile(root)).toThrow(/not a regular file but a folder/);
    expect(() => readRegularFile(join(root, "none"), { what: "checkpoint" })).toThrow(
      /none: checkpoint not found/,
    );
    const big = join(root, "big");
    writeFileSync(big, Buffer.alloc(100));
    expect(() => readRegularFile(big, { maxBytes: 99 })).toThrow(/big: 100 bytes, more than the 99/);
    expect(readRegularFile(big, { maxBytes: 100 }).length).toBe(100);
  });
});

describe("aOrAn", () => {
  it("puts the article a reader would say before a word or an initialism", () => {
    expect(
      ["checkpoint", "file", "image", "IDX file", "PNG file", "SVG file", "HTML report", "USB disk"].map(
        aOrAn,
      ),
    ).toEqual([
      "a checkpoint",
      "a file",
      "an image",
      "an IDX file",
      "a PNG file",
      "an SVG file",
      "an HTML report",
      "a USB disk",
    ]);
  });
});
