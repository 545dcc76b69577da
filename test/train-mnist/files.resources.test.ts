/**
 * The run's file helpers over a long run and on hostile ground: no file descriptor is left open by a
 * write, a read or a refusal (a run writes a checkpoint every epoch); a temporary file that someone
 * else removed mid-write still gives the error that names the file; a writer that throws something
 * other than an Error is still named; every kernel file system is refused by its name (mounted here
 * where the machine lets us); and a full disk is refused before any work starts.
 */
import { spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statfsSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  prepareOutputFolder,
  readRegularFile,
  removeStaleTemporaries,
  writeFileAtomic,
} from "../../src/train-mnist/files.ts";
import { mountFileSystem } from "../fixtures/mounts.ts";
import { sharedTempDir, tempDir } from "../fixtures/temp-dir.ts";

const root = sharedTempDir("elbo-files-resources-");

/** This process's open file descriptors (Linux). */
const openDescriptors = () => readdirSync("/proc/self/fd").length;

describe("file descriptors", () => {
  it.runIf(existsSync("/proc/self/fd"))(
    "none is left open by writes, failed writes, reads and refused reads",
    () => {
      const dir = tempDir("elbo-fds-");
      const file = join(dir, "checkpoint.safetensors");
      const before = openDescriptors();
      for (let i = 0; i < 5; i++) {
        writeFileAtomic(file, Buffer.alloc(100, i));
        expect(readRegularFile(file).equals(Buffer.alloc(100, i))).toBe(true);
        expect(() =>
          writeFileAtomic(file, "x", {
            write: () => {
              throw new Error("EIO: i/o error, write");
            },
          }),
        ).toThrow(/EIO/);
        expect(() => writeFileAtomic(dir, "x")).toThrow(/could not be written/); // rename over a folder
        expect(() => readRegularFile("/dev/zero")).toThrow(/character device/);
        expect(() => readRegularFile(file, { maxBytes: 99 })).toThrow(/more than the 99/);
      }
      expect(openDescriptors()).toBe(before);
    },
  );
});

describe("writeFileAtomic when its temporary file vanishes mid-write", () => {
  it("a failing write still names the file and the first reason, and keeps the previous file", () => {
    const dir = tempDir("elbo-vanish-");
    const file = join(dir, "metrics.json");
    writeFileAtomic(file, "previous");
    const temporary = `${file}.tmp-${process.pid}`;
    expect(() =>
      writeFileAtomic(file, "next", {
        write: () => {
          unlinkSync(temporary); // another process's clean-up, say
          throw new Error("ENOSPC: no space left on device, write");
        },
      }),
    ).toThrow(
      `${file}: could not be written (ENOSPC: no space left on device, write); the previous file, if any, is unchanged`,
    );
    expect(readFileSync(file, "utf8")).toBe("previous");
  });

  it("a rename that finds nothing to rename names the file, and keeps the previous file", () => {
    const dir = tempDir("elbo-vanish-");
    const file = join(dir, "metrics.json");
    writeFileAtomic(file, "previous");
    const temporary = `${file}.tmp-${process.pid}`;
    expect(() =>
      writeFileAtomic(file, "next", {
        write: (fd, bytes, offset, length) => {
          unlinkSync(temporary); // the bytes go to a file without a name
          return writeSync(fd, bytes, offset, length);
        },
      }),
    ).toThrow(new RegExp(`^${file}: could not be written \\(ENOENT: .*rename`));
    expect(readFileSync(file, "utf8")).toBe("previous");
    expect(readdirSync(dir)).toEqual(["metrics.json"]);
  });
});

describe("writeFileAtomic of bytes", () => {
  it("writes the caller's own bytes, not a copy of them (a checkpoint can be hundreds of MB)", () => {
    const file = join(tempDir("elbo-own-"), "checkpoint.safetensors");
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 256);
    const seen = new Set<Uint8Array>();
    writeFileAtomic(file, bytes, {
      write: (fd, data, offset, length) => {
        seen.add(data);
        return writeSync(fd, data, offset, Math.min(length, 300));
      },
    });
    expect([...seen]).toEqual([bytes]);
    expect([...seen][0]).toBe(bytes);
    expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
  });
});

describe("writeFileAtomic with a writer that throws something other than an Error", () => {
  it("names the file and says what was thrown", () => {
    const file = join(tempDir("elbo-thrown-"), "metrics.json");
    expect(() =>
      writeFileAtomic(file, "{}", {
        write: () => {
          throw "the tape ran out";
        },
      }),
    ).toThrow(`${file}: could not be written (the tape ran out); the previous file, if any, is unchanged`);
  });
});

describe("removeStaleTemporaries and another user's process", () => {
  it("keeps the temporary of a live process it may not signal (EPERM)", (ctx) => {
    // As root every process may be signalled: run a process as one user (65533) and look as another
    // (nobody, 65534), where the machine and the test pool allow it (a worker thread cannot seteuid).
    if (process.geteuid?.() !== 0) {
      ctx.skip();
      return;
    }
    const live = spawn("sleep", ["30"], { uid: 65533, gid: 65533, stdio: "ignore" });
    onTestFinished(() => {
      live.kill("SIGKILL");
    });
    const dir = tempDir("elbo-other-user-");
    for (const folder of [root, dir]) chmodSync(folder, 0o755);
    const name = `checkpoint.safetensors.tmp-${live.pid}`;
    writeFileSync(join(dir, name), "x");
    try {
      process.seteuid?.(65534);
    } catch {
      ctx.skip();
      return;
    }
    let removed: string[];
    try {
      expect(process.geteuid?.()).toBe(65534);
      expect(() => process.kill(live.pid as number, 0)).toThrow(/EPERM/);
      removed = removeStaleTemporaries(dir);
    } finally {
      process.seteuid?.(0);
    }
    expect(removed).toEqual([]);
    expect(readdirSync(dir)).toEqual([name]);
  });
});

describe("prepareOutputFolder on kernel file systems", () => {
  // The file systems a run cannot be written to, each by its name; the folder a run is pointed at is
  // inside a file of the mount where one exists, so that no folder is made there whatever happens.
  const kinds: [type: string, magic: number][] = [
    ["proc", 0x9fa0],
    ["sysfs", 0x62656572],
    ["devpts", 0x1cd1],
    ["debugfs", 0x64626720],
    ["tracefs", 0x74726163],
    ["cgroup", 0x27e0eb],
    ["cgroup2", 0x63677270],
    ["securityfs", 0x73636673],
    ["bpf", 0xcafe4a11],
    ["pstore", 0x6165676c],
    ["configfs", 0x62656570],
  ];
  const mounts = existsSync("/proc/mounts")
    ? readFileSync("/proc/mounts", "utf8")
        .split("\n")
        .map((line) => line.split(" "))
    : [];

  it.for(kinds)("refuses %s, naming it", ([type, magic], ctx) => {
    let mount = mounts.find(([, at, kind]) => kind === type && existsSync(at))?.[1] ?? null;
    const ours = mount === null;
    // cgroup v1 needs a controller; a fresh, empty hierarchy of our own is enough.
    if (ours) mount = mountFileSystem(type, type === "cgroup" ? `none,name=elbo-${process.pid}` : "");
    if (mount === null) {
      ctx.skip(); // neither mounted here nor mountable
      return;
    }
    expect(statfsSync(mount).type).toBe(magic);
    const inside =
      readdirSync(mount).find((name) => name.startsWith("cgroup.procs")) ?? readdirSync(mount)[0];
    const dir = join(mount, inside ?? "", "elbo-run");
    expect(() => prepareOutputFolder(dir, "--out")).toThrow(
      ` is on the ${type} file system, which cannot hold files`,
    );
  });
});

describe("prepareOutputFolder on a full disk", () => {
  it("refuses it before any work starts, naming the folder", (ctx) => {
    const mount = mountFileSystem("tmpfs", "size=64k");
    if (mount === null) {
      ctx.skip();
      return;
    }
    // Fill the disk: a tmpfs takes whole pages, so some bytes of the last one may stay free.
    const filler = join(mount, "filler");
    writeFileSync(filler, "");
    try {
      writeFileSync(filler, Buffer.alloc(64 * 1024 + 4096, 1));
    } catch {
      // ENOSPC: full, which is what was wanted
    }
    const run = join(mount, "run");
    mkdirSync(run);
    expect(() => prepareOutputFolder(run, "--out")).toThrow(
      new RegExp(`^--out ${run}: the folder is not writable \\(.*(ENOSPC|disk full)`),
    );
  });
});
