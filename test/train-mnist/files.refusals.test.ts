/**
 * The run's file helpers at their edges, each with the message a user sees: a rename that fails,
 * temporaries of live writers and files that only look like temporaries, and the files a read
 * refuses (a socket, a block device, a kernel file that says it is bigger than it is, a folder on a
 * kernel file system).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  prepareOutputFolder,
  readRegularFile,
  removeStaleTemporaries,
  writeFileAtomic,
} from "../../src/train-mnist/files.ts";
import { sharedTempDir, tempDir } from "../fixtures/temp-dir.ts";

const root = sharedTempDir("elbo-files-edges-");

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((done) => child.on("exit", done));
  return child.pid as number;
}

describe("writeFileAtomic", () => {
  it("names the file when the rename fails (a folder in the way), and leaves no temporary", () => {
    const dir = tempDir("elbo-rename-");
    const target = join(dir, "metrics.json");
    mkdirSync(target);
    writeFileSync(join(target, "inside"), "x");
    expect(() => writeFileAtomic(target, "{}")).toThrow(
      /metrics\.json: could not be written \(.*\); the previous file, if any, is unchanged/,
    );
    expect(readdirSync(dir)).toEqual(["metrics.json"]);
  });
});

describe("writeFileAtomic of a string", () => {
  it("writes its UTF-8 bytes, however short the writes are", () => {
    const path = join(root, "notes.txt");
    const text = "ünïcode ✓ ".repeat(5);
    const lengths: number[] = [];
    writeFileAtomic(path, text, {
      write: (fd, bytes, offset, length) => {
        lengths.push(length);
        return writeSync(fd, bytes, offset, Math.min(length, 7));
      },
    });
    expect(readFileSync(path, "utf8")).toBe(text);
    const size = Buffer.byteLength(text);
    // Each write asks for what is left of the bytes, 7 of them taken each time.
    expect(lengths).toEqual(Array.from({ length: Math.ceil(size / 7) }, (_, i) => size - 7 * i));
  });
});

describe("removeStaleTemporaries", () => {
  it("keeps a live writer's temporary, and files that only contain the pattern", async () => {
    const dir = tempDir("elbo-stale-");
    const live = spawn("sleep", ["30"]);
    onTestFinished(() => {
      live.kill("SIGKILL");
    });
    const dead = await deadPid();
    const names = [
      `checkpoint.safetensors.tmp-${live.pid}`,
      `metrics.json.tmp-${dead}`,
      `metrics.json.tmp-${dead}.bak`,
      `loss.png.tmp-${dead}x`,
    ];
    for (const name of names) writeFileSync(join(dir, name), "x");
    expect(removeStaleTemporaries(dir)).toEqual([`metrics.json.tmp-${dead}`]);
    expect(readdirSync(dir).sort()).toEqual([names[0], names[2], names[3]].sort());
  });
});

describe("readRegularFile", () => {
  it("calls what it reads a file unless told what it is", () => {
    expect(() => readRegularFile(join(root, "none"))).toThrow(`${join(root, "none")}: file not found`);
    expect(() => readRegularFile(root)).toThrow(
      `${root}: not a regular file but a folder; a file is expected`,
    );
  });

  it("cannot open a socket, and says so naming it", async () => {
    const socket = join(root, "s.sock");
    const server = createServer();
    await new Promise<void>((done) => server.listen(socket, done));
    onTestFinished(() => new Promise<void>((done) => server.close(() => done())));
    expect(() => readRegularFile(socket, { what: "checkpoint" })).toThrow(
      /s\.sock: cannot open the checkpoint \(.*ENXIO/,
    );
  });

  it.runIf(existsSync("/dev/loop0"))("refuses a block device", () => {
    expect(() => readRegularFile("/dev/loop0", { what: "checkpoint" })).toThrow(
      "/dev/loop0: not a regular file but a block device; a checkpoint is expected",
    );
  });

  it.runIf(existsSync("/sys/kernel/profiling"))(
    "stops at a file that holds fewer bytes than its size says (a sysfs file says 4096)",
    () => {
      expect(() => readRegularFile("/sys/kernel/profiling")).toThrow(
        /\/sys\/kernel\/profiling: the file shrank while being read \(it ended at byte \d+, \d+ bytes short\)/,
      );
    },
  );
});

describe("prepareOutputFolder", () => {
  it.runIf(existsSync("/dev/pts"))("refuses /dev/pts, naming its file system", () => {
    expect(() => prepareOutputFolder("/dev/pts/run", "--out")).toThrow(
      "--out /dev/pts/run: /dev/pts is on the devpts file system, which cannot hold files",
    );
  });
});
