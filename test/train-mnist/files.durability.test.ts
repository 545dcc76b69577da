/**
 * What makes writeFileAtomic durable, not just atomic, seen through the file-system calls it makes:
 * the temporary file's bytes are fsynced before the rename publishes them, and the folder is fsynced
 * after it, so that a power cut can neither leave the new name pointing at missing data nor forget
 * the rename. (A crash between calls, the atomic part, is checkpoint.test.ts.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { writeFileAtomic } from "../../src/train-mnist/files.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";

const calls = vi.hoisted(() => [] as string[]);

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const opened = new Map<number, string>();
  return {
    ...fs,
    openSync: (path: string, ...rest: never[]) => {
      const fd = (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
      opened.set(fd, path);
      calls.push(`open ${path}`);
      return fd;
    },
    fsyncSync: (fd: number) => {
      calls.push(`fsync ${opened.get(fd)}`);
      fs.fsyncSync(fd);
    },
    renameSync: (from: string, to: string) => {
      calls.push(`rename ${from} -> ${to}`);
      fs.renameSync(from, to);
    },
  };
});

const dir = sharedTempDir("elbo-durable-");

describe("writeFileAtomic", () => {
  it("fsyncs the temporary file, renames it over the target, then fsyncs the folder", () => {
    const path = join(dir, "metrics.json");
    const temporary = `${path}.tmp-${process.pid}`;
    calls.length = 0;
    writeFileAtomic(path, "ünïcode ✓\n");
    expect(calls).toEqual([
      `open ${temporary}`,
      `fsync ${temporary}`,
      `rename ${temporary} -> ${path}`,
      `open ${dir}`,
      `fsync ${dir}`,
    ]);
    expect(readFileSync(path, "utf8")).toBe("ünïcode ✓\n");
  });
});
