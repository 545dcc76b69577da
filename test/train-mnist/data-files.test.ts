/**
 * The MNIST folder's files as loadMnist finds and reads them, with the messages a user sees: the
 * four files named when one is missing, and an IDX file that is not a regular file, or is larger
 * than any IDX file may be (checked from its size, before a byte is read: a sparse file here).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadMnist } from "../../src/train-mnist/data.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "elbo-data-files-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("loadMnist's files", () => {
  it("names the missing file, its .gz form and the four files a folder must hold", () => {
    expect(() => loadMnist("test", { dir })).toThrow(
      `${join(dir, "t10k-images-idx3-ubyte")}: no such file (nor t10k-images-idx3-ubyte.gz); the dataset folder is ` +
        "expected to contain the four standard MNIST files train-images-idx3-ubyte, train-labels-idx1-ubyte, " +
        "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each plain or gzip-compressed as *.gz",
    );
  });

  it("refuses an images file that is a named pipe, calling it an IDX file", () => {
    const images = join(dir, "train-images-idx3-ubyte");
    execFileSync("mkfifo", [images]);
    writeFileSync(join(dir, "train-labels-idx1-ubyte"), "");
    expect(() => loadMnist("train", { dir })).toThrow(
      `${images}: not a regular file but a named pipe (FIFO); a IDX file is expected`,
    );
  });

  it("refuses an IDX file over 1 GiB before reading it", () => {
    const images = join(dir, "train-images-idx3-ubyte");
    writeFileSync(images, "");
    truncateSync(images, 2 ** 30 + 1); // sparse: no disk space, no time
    writeFileSync(join(dir, "train-labels-idx1-ubyte"), "");
    expect(() => loadMnist("train", { dir })).toThrow(
      `${images}: 1073741825 bytes, more than the 1073741824 a IDX file may have`,
    );
  });
});
