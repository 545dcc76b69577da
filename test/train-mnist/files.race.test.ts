/**
 * Two runs starting in one folder at once both clean it: a stale temporary file that the other run
 * removed between this run's listing and its removal is not an error. The race is made certain
 * here by listing a name that is already gone.
 */
import { spawn } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { prepareOutputFolder } from "../../src/train-mnist/files.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";

/** Names readdirSync lists as well as what is on disk (the other run got there first). */
const phantoms = vi.hoisted(() => [] as string[]);

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    readdirSync: (path: string) => [...fs.readdirSync(path), ...phantoms],
  };
});

const dir = sharedTempDir("elbo-files-race-");

describe("prepareOutputFolder racing another run's clean-up", () => {
  it("removes the stale temporaries still there and passes over one already removed", async () => {
    const child = spawn(process.execPath, ["-e", ""]);
    await new Promise((done) => child.on("exit", done));
    const dead = child.pid as number;
    writeFileSync(join(dir, `checkpoint.safetensors.tmp-${dead}`), "half a checkpoint");
    phantoms.push(`metrics.json.tmp-${dead}`);
    try {
      expect(() => prepareOutputFolder(dir, "--out")).not.toThrow();
    } finally {
      phantoms.length = 0;
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
