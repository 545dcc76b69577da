/**
 * The output folder is checked before any work, in this process: every name the run will write
 * must be free for it (a folder, a FIFO or an immutable file named checkpoint.safetensors or
 * metrics.json used to be found only after an epoch's work), a symbolic link that leads nowhere is
 * named as such (it used to give EEXIST), a folder that merely looks like a temporary file is left
 * alone (it used to give "rm returned EISDIR"), and a run refused before writing anything leaves no
 * empty folder behind.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { trainMnist } from "../../src/train-mnist/train-mnist.ts";
import { consoleLines } from "../fixtures/console-lines.ts";
import { writeMnistFolder } from "../fixtures/mnist-folder.ts";
import { sharedTempDir } from "../fixtures/temp-dir.ts";

const root = sharedTempDir("elbo-output-folder-");
const data = writeMnistFolder(join(root, "data"), [16, 28, 28], [5, 28, 28]);
const printed = consoleLines();

const quick = [
  ...["--data", data, "--backend", "cpu", "--epochs", "1", "--hidden", "4", "--latent", "2"],
  ...["--batch-size", "8", "--iw-k", "2", "--iw-images", "3"],
];
let runs = 0;
const outFolder = () => mkdtempSync(join(root, `out${runs++}-`));

describe("the names a run writes", () => {
  it("are refused, before any work, when a folder, a FIFO or an immutable file holds one", async (ctx) => {
    const folderThere = outFolder();
    mkdirSync(join(folderThere, "checkpoint.safetensors"));
    await expect(trainMnist([...quick, "--out", folderThere])).rejects.toThrow(
      `--out ${folderThere}: ${join(folderThere, "checkpoint.safetensors")} is a folder, where the run writes a file; move it away`,
    );
    // Nothing was done: not even the backend was chosen.
    expect(printed.lines).toEqual([]);

    const fifoThere = outFolder();
    execFileSync("mkfifo", [join(fifoThere, "metrics.json")]);
    await expect(trainMnist([...quick, "--out", fifoThere])).rejects.toThrow(
      `${join(fifoThere, "metrics.json")} is a named pipe (FIFO), where the run writes a file`,
    );

    // This process's own temporary name, a folder: the atomic write would fail at the first epoch.
    const temporaryThere = outFolder();
    mkdirSync(join(temporaryThere, `loss.png.tmp-${process.pid}`));
    await expect(trainMnist([...quick, "--out", temporaryThere])).rejects.toThrow(
      `loss.png.tmp-${process.pid} is a folder, where the run writes a file`,
    );

    const immutable = outFolder();
    const metrics = join(immutable, "metrics.json");
    writeFileSync(metrics, "{}");
    try {
      execFileSync("chattr", ["+i", metrics], { stdio: "ignore" });
    } catch {
      ctx.skip(); // no chattr, or a file system without attributes: the checks above ran
      return;
    }
    onTestFinished(() => {
      execFileSync("chattr", ["-i", metrics]);
    });
    await expect(trainMnist([...quick, "--out", immutable])).rejects.toThrow(
      `--out ${immutable}: ${metrics} cannot be replaced (EPERM: immutable, append-only or on a read-only mount); move it away or choose another folder`,
    );
    expect(printed.lines).toEqual([]);
  });

  it("may be anything when the run does not write it: --eval-only writes no checkpoint", async () => {
    const first = outFolder();
    await trainMnist([...quick, "--out", first]);
    const out = outFolder();
    mkdirSync(join(out, "checkpoint.safetensors"));
    const checkpoint = join(first, "checkpoint.safetensors");
    await trainMnist(["--eval-only", checkpoint, "--iw-k", "2", "--iw-images", "3", "--out", out]);
    expect(existsSync(join(out, "metrics.json"))).toBe(true);
  }, 60_000);

  it("are not confused with a folder named like a dead run's temporary file, which is left alone", async () => {
    const out = outFolder();
    const lookalike = join(out, "checkpoint.safetensors.tmp-999999");
    mkdirSync(lookalike);
    writeFileSync(join(lookalike, "mine"), "a user's file");
    await trainMnist([...quick, "--out", out]);
    expect(readdirSync(lookalike)).toEqual(["mine"]);
    expect(existsSync(join(out, "checkpoint.safetensors"))).toBe(true);
  }, 60_000);
});

describe("an --out that leads nowhere", () => {
  it("a dangling symbolic link, or one that loops, is named as such (it used to give EEXIST)", async () => {
    const dangling = join(root, "dangling");
    symlinkSync(join(root, "nowhere"), dangling);
    await expect(trainMnist([...quick, "--out", dangling])).rejects.toThrow(
      `--out ${dangling}: ${dangling} is a symbolic link to ${join(root, "nowhere")}, which does not exist; make that folder or name another`,
    );
    await expect(trainMnist([...quick, "--out", join(dangling, "run")])).rejects.toThrow(
      `${dangling} is a symbolic link to`,
    );
    const loop = join(root, "loop");
    symlinkSync(loop, loop);
    await expect(trainMnist([...quick, "--out", loop])).rejects.toThrow(
      `--out ${loop}: ${loop} is a symbolic link that loops back on itself; name a folder`,
    );
    expect(existsSync(join(root, "nowhere"))).toBe(false);
  });
});

describe("a run refused before it writes anything", () => {
  it("removes the folders it made for --out, and only those", async () => {
    const parent = outFolder();
    const out = join(parent, "a", "b");
    await expect(
      trainMnist([...quick, "--out", out, "--resume", join(root, "missing.safetensors")]),
    ).rejects.toThrow("missing.safetensors: checkpoint not found");
    expect(existsSync(join(parent, "a"))).toBe(false);
    expect(existsSync(parent)).toBe(true);
  });
});
