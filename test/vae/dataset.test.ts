/**
 * The in-memory data set (src/vae/dataset.ts): parseIdx reads dims big-endian and the payload
 * exactly; and its edges, each with the message a user sees: every IDX element type
 * named, the gzip hint only for gzip, headers of exactly the size they need, data sets with no
 * pixels, labels at the ends of 0..9, the `limit` a run may ask for, image sizes that disagree, and
 * batches that use every index once with no empty one, gathered into a buffer of exactly their size.
 */
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { Generator } from "../../src/autograd/random.ts";
import {
  checkImageSizes,
  type Dataset,
  datasetFromIdx,
  gatherImages,
  type IdxArray,
  parseIdx,
  shuffledBatches,
} from "../../src/vae/dataset.ts";
import { idxFile } from "../fixtures/idx.ts";
import { tinyDataset } from "../fixtures/tiny-run.ts";

const names = { images: "imgs", labels: "labs" };
const images = (n: number, rows: number, cols: number): IdxArray => ({
  dims: [n, rows, cols],
  data: Uint8Array.from({ length: n * rows * cols }, (_, i) => i % 256),
});
const labels = (...digits: number[]): IdxArray => ({ dims: [digits.length], data: Uint8Array.from(digits) });

describe("parseIdx names what it refuses", () => {
  it.for([
    [0x09, "signed byte"],
    [0x0b, "int16"],
    [0x0c, "int32"],
    [0x0d, "float32"],
    [0x0e, "float64"],
    [0x07, "unknown"],
  ] as const)("type code %i: %s", ([code, name]) => {
    const hex = code.toString(16).padStart(2, "0");
    expect(() => parseIdx(idxFile([1], [0], code), "f")).toThrow(
      `f: IDX type code 0x${hex} (${name}) is not supported, only 0x08 (unsigned byte)`,
    );
  });

  it("hints at gzip only for gzip's magic bytes, and wants both leading bytes zero", () => {
    const gzipped = gzipSync(idxFile([1], [3]));
    expect(() => parseIdx(gzipped, "labels")).toThrow(
      /^labels: not an IDX file: magic number 0x1f8b08\w\w should start with two zero bytes \(it looks gzip-compressed: name it \*\.gz\)$/,
    );
    for (const start of [
      [0x1f, 0x01],
      [0x01, 0x8b],
      [0x00, 0x8b],
    ]) {
      const bytes = idxFile([1], [3]);
      bytes.set(start);
      const magic = `0x${start.map((b) => b.toString(16).padStart(2, "0")).join("")}0801`;
      // The whole message, ending there: no hint.
      expect(() => parseIdx(bytes, "labels"), magic).toThrow(
        new RegExp(`^labels: not an IDX file: magic number ${magic} should start with two zero bytes$`),
      );
    }
  });

  it("reads a header of exactly four bytes as far as its rank, and refuses three", () => {
    expect(() => parseIdx(Uint8Array.from([0, 0, 8]), "f")).toThrow(
      "f: too short for an IDX header (3 bytes)",
    );
    expect(() => parseIdx(Uint8Array.from([0, 0, 8, 1]), "f")).toThrow(
      "f: truncated header: 1 dims need 8 bytes but the file holds 4",
    );
  });

  it("accepts a header with no data when its dims hold nothing (an empty labels file)", () => {
    const parsed = parseIdx(idxFile([0], []), "labs");
    expect(parsed.dims).toEqual([0]);
    expect(parsed.data.length).toBe(0);
  });

  it("reads the dims of bytes that sit inside a larger buffer (a Node Buffer's slice of its pool)", () => {
    const pool = new Uint8Array(64).fill(0xff);
    const file = idxFile([2, 1, 3], [1, 2, 3, 4, 5, 6]);
    pool.set(file, 7);
    const parsed = parseIdx(pool.subarray(7, 7 + file.length), "imgs");
    expect(parsed.dims).toEqual([2, 1, 3]);
    expect(Array.from(parsed.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe("datasetFromIdx", () => {
  it("refuses labels whose magic says images, naming both ranks", () => {
    expect(() => datasetFromIdx(images(2, 1, 1), images(2, 1, 1), names)).toThrow(
      "labs: magic number 0x00000803 says 3 dims, but MNIST labels have 1 (magic 0x00000801)",
    );
  });

  it.for([
    [0, 2, 3],
    [2, 0, 3],
    [2, 3, 0],
  ])("refuses %i images of %i×%i: no pixels", ([n, rows, cols]) => {
    expect(() => datasetFromIdx(images(n, rows, cols), labels(...new Array(n).fill(1)), names)).toThrow(
      `imgs: holds no pixels (${n} images of ${rows}×${cols}); at least one is needed`,
    );
  });

  it("accepts the digits 0 and 9, and refuses a 10 even as the first label", () => {
    expect(Array.from(datasetFromIdx(images(2, 1, 1), labels(0, 9), names).labels)).toEqual([0, 9]);
    expect(() => datasetFromIdx(images(2, 1, 1), labels(10, 9), names)).toThrow(
      "labs: label 10 at index 0 is not a digit 0..9",
    );
  });

  it("keeps `limit` images, all of them when there are fewer, and refuses a limit that is not a positive integer", () => {
    const one = datasetFromIdx(images(3, 1, 2), labels(4, 5, 6), names, 1);
    expect([one.count, Array.from(one.labels), one.images.length]).toEqual([1, [4], 2]);
    const all = datasetFromIdx(images(3, 1, 2), labels(4, 5, 6), names, 50);
    expect([all.count, Array.from(all.labels), all.images.length]).toEqual([3, [4, 5, 6], 6]);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => datasetFromIdx(images(3, 1, 2), labels(4, 5, 6), names, bad), String(bad)).toThrow(
        `datasetFromIdx: limit must be a positive integer, got ${bad}`,
      );
    }
  });
});

describe("checkImageSizes", () => {
  const files = { train: "train-images", test: "t10k-images" };
  const sized = (rows: number, cols: number): Dataset => tinyDataset(1, rows, cols);

  it("accepts training and test images of the model's size", () => {
    expect(() => checkImageSizes(sized(28, 28), sized(28, 28), 784, files)).not.toThrow();
  });

  it("refuses test images of another height or another width, naming both sizes", () => {
    expect(() => checkImageSizes(sized(28, 28), sized(27, 28), 784, files)).toThrow(
      "t10k-images: test images are 27×28 but the training images (train-images) are 28×28",
    );
    expect(() => checkImageSizes(sized(28, 28), sized(28, 27), 784, files)).toThrow(
      "t10k-images: test images are 28×27 but the training images (train-images) are 28×28",
    );
  });

  it("refuses images whose pixel count is not the model's input size", () => {
    expect(() => checkImageSizes(sized(2, 3), sized(2, 3), 5, files)).toThrow(
      "train-images: the images are 2×3 = 6 pixels but the model takes 5",
    );
  });
});

describe("shuffledBatches", () => {
  it("takes a batch size of 1: one image a step", () => {
    const batches = shuffledBatches(3, 1, new Generator(1));
    expect(batches.map((b) => b.length)).toEqual([1, 1, 1]);
    expect(batches.map((b) => b[0]).sort()).toEqual([0, 1, 2]);
  });

  it("cuts a count that batchSize divides into full batches only, never an empty one", () => {
    expect(shuffledBatches(64, 32, new Generator(1)).map((b) => b.length)).toEqual([32, 32]);
    expect(shuffledBatches(1, 32, new Generator(1)).map((b) => Array.from(b))).toEqual([[0]]);
  });

  it("gives no batch for no images, and refuses a count that is not a non-negative integer", () => {
    expect(shuffledBatches(0, 4, new Generator(1))).toEqual([]);
    for (const bad of [-1, 2.5]) {
      expect(() => shuffledBatches(bad, 4, new Generator(1))).toThrow(
        `shuffledBatches: count must be a non-negative integer, got ${bad}`,
      );
    }
    expect(() => shuffledBatches(4, 1.5, new Generator(1))).toThrow(
      "shuffledBatches: batchSize must be a positive integer, got 1.5",
    );
  });

  it("gives the same batches for the same seed and different ones for another seed", () => {
    const a = shuffledBatches(100, 32, new Generator(5));
    const b = shuffledBatches(100, 32, new Generator(5));
    const c = shuffledBatches(100, 32, new Generator(6));
    expect(a.map((x) => Array.from(x))).toEqual(b.map((x) => Array.from(x)));
    expect(a.map((x) => Array.from(x))).not.toEqual(c.map((x) => Array.from(x)));
  });

  it("uses every index exactly once, in full batches and a shorter last one", () => {
    const batches = shuffledBatches(100, 32, new Generator(1));
    expect(batches.map((x) => x.length)).toEqual([32, 32, 32, 4]);
    const all = batches.flatMap((x) => Array.from(x));
    expect(all.slice().sort((p, q) => p - q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(all).not.toEqual(Array.from({ length: 100 }, (_, i) => i)); // it did shuffle
  });

  it("rejects a batch size that is not a positive integer", () => {
    expect(() => shuffledBatches(10, 0, new Generator(0))).toThrow(/batchSize must be a positive integer/);
  });
});

describe("gatherImages", () => {
  const ds = tinyDataset(3, 1, 2);

  it("fills a buffer of exactly the batch's size", () => {
    const buffer = new Float32Array(4);
    const batch = gatherImages(ds, Int32Array.from([2, 0]), buffer);
    expect(batch.buffer).toBe(buffer.buffer);
    expect(Array.from(batch)).toEqual([...ds.images.slice(4, 6), ...ds.images.slice(0, 2)]);
  });

  it("refuses an index below 0 or past the end, naming the valid range", () => {
    for (const bad of [-1, 3]) {
      expect(() => gatherImages(ds, Int32Array.from([0, bad]))).toThrow(
        `gatherImages: index ${bad} is outside the dataset's 0..2`,
      );
    }
  });
});

// Three 2×3 images whose pixels are 0, 10, 20, ... and their labels.
const PIXELS = Array.from({ length: 3 * 2 * 3 }, (_, i) => i * 10);

const LABELS = [7, 0, 9];

describe("parseIdx", () => {
  it("reads dims big-endian and returns exactly the payload", () => {
    const { dims, data } = parseIdx(idxFile([3, 2, 3], PIXELS), "x");
    expect(dims).toEqual([3, 2, 3]);
    expect(Array.from(data)).toEqual(PIXELS);
  });

  it("reads dims above 255 (all four bytes of the uint32 count)", () => {
    expect(parseIdx(idxFile([300], new Uint8Array(300)), "x").dims).toEqual([300]);
  });

  it("rejects a magic number that does not start with two zero bytes", () => {
    const bytes = idxFile([3], LABELS);
    bytes[0] = 0x12;
    expect(() => parseIdx(bytes, "f-labels")).toThrow(/f-labels: not an IDX file: magic number 0x12000801/);
  });

  it("rejects element types other than unsigned byte, naming the type", () => {
    expect(() => parseIdx(idxFile([3], LABELS, 0x0d), "f")).toThrow(
      /f: IDX type code 0x0d \(float32\) is not supported/,
    );
  });

  it("rejects a truncated file, saying how many bytes were expected and found", () => {
    const bytes = idxFile([3, 2, 3], PIXELS).subarray(0, 4 + 12 + 17);
    expect(() => parseIdx(bytes, "imgs")).toThrow(
      "imgs: truncated: header says 3×2×3 = 18 bytes of data but the file holds 17",
    );
  });

  it("rejects an oversized file", () => {
    expect(() => parseIdx(idxFile([3], [1, 2, 3, 4]), "labs")).toThrow(
      "labs: oversized: header says 3 = 3 bytes of data but the file holds 4",
    );
  });

  it("rejects a file too short for its own header", () => {
    expect(() => parseIdx(idxFile([3, 2, 3], []).subarray(0, 9), "h")).toThrow(/h: truncated header/);
  });
});
