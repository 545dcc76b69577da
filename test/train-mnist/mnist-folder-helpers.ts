/** MNIST-format data folders for the runs of train:mnist in the tests: small, made on the spot. */
import { mkdirSync, writeFileSync } from "node:fs";

/** An IDX file of unsigned bytes: magic (0, 0, type 8, number of dimensions), the sizes, the bytes. */
function idx(dims: number[], payload: Uint8Array): Buffer {
  const header = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  header.setUint8(2, 8);
  header.setUint8(3, dims.length);
  for (const [i, d] of dims.entries()) header.setUint32(4 + 4 * i, d, false);
  return Buffer.concat([new Uint8Array(header.buffer), payload]);
}

/**
 * Write into `dir` the four MNIST files, with `train` and `test` as [images, rows, cols]: fixed
 * pixels that vary from image to image, labels 0..9 in turn. Returns `dir`.
 */
export function writeMnistFolder(
  dir: string,
  train: [number, number, number],
  test: [number, number, number],
): string {
  mkdirSync(dir, { recursive: true });
  for (const [prefix, [n, rows, cols]] of [
    ["train", train],
    ["t10k", test],
  ] as const) {
    const pixels = Uint8Array.from({ length: n * rows * cols }, (_, i) => (i * 97) % 256);
    writeFileSync(`${dir}/${prefix}-images-idx3-ubyte`, idx([n, rows, cols], pixels));
    writeFileSync(
      `${dir}/${prefix}-labels-idx1-ubyte`,
      idx(
        [n],
        Uint8Array.from({ length: n }, (_, i) => i % 10),
      ),
    );
  }
  return dir;
}
