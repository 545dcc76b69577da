/**
 * Data sets in memory, without files: the IDX format parsed and checked, images and labels paired
 * into a Dataset, and the seeded shuffling that turns it into mini-batches. Nothing here touches
 * the file system, so a browser page uses it as it is (src/train-mnist/data.ts reads the files in Node).
 *
 * IDX (LeCun's format) is a tiny header followed by raw bytes:
 *   0x00 0x00 <type code> <number of dims>   then each dim as a big-endian uint32, then the data.
 * MNIST's images are 0x00000803 (unsigned bytes, 3 dims: count × rows × cols) and its labels
 * 0x00000801 (unsigned bytes, 1 dim: count).
 */
import type { Generator } from "../autograd/random.ts";
import { crc32 } from "../nn/crc32.ts";

/** An IDX file's shape and its payload (a view into the bytes it was parsed from, not a copy). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** The only element type MNIST uses; the others are named so that an error can say what it found. */
const UNSIGNED_BYTE = 0x08;
const OTHER_TYPE_NAMES = new Map<number, string>([
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
    const name = OTHER_TYPE_NAMES.get(type) ?? "unknown";
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

/**
 * Pair parsed images (count × rows × cols) with their labels (count digits) into a Dataset,
 * keeping the first `limit` images. The names only appear in error messages.
 */
export function datasetFromIdx(
  images: IdxArray,
  labels: IdxArray,
  names: { images: string; labels: string },
  limit?: number,
): Dataset {
  expectRank(images, 3, names.images, "images");
  expectRank(labels, 1, names.labels, "labels");
  const [n, rows, cols] = images.dims;
  if (labels.dims[0] !== n) {
    throw new Error(`${names.labels}: holds ${labels.dims[0]} labels but ${names.images} holds ${n} images`);
  }
  if (n === 0 || rows === 0 || cols === 0) {
    throw new Error(
      `${names.images}: holds no pixels (${n} images of ${rows}×${cols}); at least one is needed`,
    );
  }
  const badAt = labels.data.findIndex((label) => label > 9);
  if (badAt >= 0) {
    throw new Error(`${names.labels}: label ${labels.data[badAt]} at index ${badAt} is not a digit 0..9`);
  }
  const kept = limit ?? n;
  if (!Number.isInteger(kept) || kept < 1) {
    throw new Error(`datasetFromIdx: limit must be a positive integer, got ${limit}`);
  }
  const count = Math.min(kept, n);
  const pixels = images.data.subarray(0, count * rows * cols);
  const scaled = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) scaled[i] = pixels[i] / 255;
  return { images: scaled, labels: labels.data.slice(0, count), count, rows, cols };
}

/** What identifies a data set for a checkpoint: its size and a checksum of its images and labels. */
export interface SplitFingerprint {
  count: number;
  rows: number;
  cols: number;
  /** CRC-32 of the images (as the float32 pixels the model sees) and then the labels. */
  crc32: string;
}

/** The training and test sets of a run. */
export interface DataFingerprint {
  train: SplitFingerprint;
  test: SplitFingerprint;
}

export function fingerprintOf(ds: Dataset): SplitFingerprint {
  const { images, labels } = ds;
  const pixels = new Uint8Array(images.buffer, images.byteOffset, images.byteLength);
  return { count: ds.count, rows: ds.rows, cols: ds.cols, crc32: crc32([pixels, labels]) };
}

/** How `now` differs from `then`, in words ("60000 images then, 50000 now"), or null when it does not. */
export function fingerprintDifference(then: SplitFingerprint, now: SplitFingerprint): string | null {
  if (then.count !== now.count) return `${then.count} images then, ${now.count} now`;
  if (then.rows !== now.rows || then.cols !== now.cols)
    return `images of ${then.rows}×${then.cols} then, ${now.rows}×${now.cols} now`;
  if (then.crc32 !== now.crc32)
    return `as many images of the same size, but other pixels or labels (CRC-32 ${then.crc32} then, ${now.crc32} now)`;
  return null;
}

/**
 * Check that the training and test images have one size and that it is the model's input size,
 * before any work starts (a 27×27 test set would otherwise fail only after training).
 */
export function checkImageSizes(
  train: Dataset,
  test: Dataset,
  inputDim: number,
  names: { train: string; test: string },
): void {
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new Error(
      `${names.test}: test images are ${test.rows}×${test.cols} but the training images (${names.train}) are ${train.rows}×${train.cols}`,
    );
  }
  if (train.rows * train.cols !== inputDim) {
    throw new Error(
      `${names.train}: the images are ${train.rows}×${train.cols} = ${train.rows * train.cols} pixels but the model takes ${inputDim}`,
    );
  }
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

/**
 * Copy the images at `indices` into one contiguous batch of indices.length × rows × cols pixels, at
 * the start of `into` when given (a training loop reuses one buffer rather than allocate 400 KB a step).
 */
export function gatherImages(ds: Dataset, indices: Int32Array, into?: Float32Array): Float32Array {
  const size = ds.rows * ds.cols;
  const length = indices.length * size;
  if (into !== undefined && into.length < length) {
    throw new Error(`gatherImages: the buffer holds ${into.length} numbers, the batch needs ${length}`);
  }
  const batch = into?.subarray(0, length) ?? new Float32Array(length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    if (!(index >= 0 && index < ds.count)) {
      throw new Error(`gatherImages: index ${index} is outside the dataset's 0..${ds.count - 1}`);
    }
    batch.set(ds.images.subarray(index * size, (index + 1) * size), i * size);
  }
  return batch;
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
