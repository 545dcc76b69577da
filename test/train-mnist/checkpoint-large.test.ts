/**
 * Checkpoints past 2 GiB and 4 GiB, both directions. A `--hidden 115000` run wrote a 2.2 GB
 * checkpoint that could never be read back: one readSync of the whole file is refused above 2 GiB,
 * and one array holds at most 4 GiB in Node 20. The reader now reads in 1 GiB pieces straight
 * into each tensor's own array, and the writer hands the file over in parts.
 *
 * The files read here are sparse (holes read as zeros and take no disk), with marks written at
 * chosen places past 2 and 4 GiB; their checksum is computed with Node's own zlib.crc32. Each test
 * holds one file's tensors in memory (4 GiB, then twice 2 GiB: the array read and the backend's
 * copy), the largest first, so that the garbage collector can take it before the next.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 as zlibCrc32 } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { encodeEntries, parseSafetensors } from "../../src/nn/safetensors.ts";
import { loadCheckpoint } from "../../src/train-mnist/checkpoint.ts";
import { withRegularFile, writeFileAtomic } from "../../src/train-mnist/files.ts";

const GiB = 2 ** 30;
const dir = mkdtempSync(join(tmpdir(), "elbo-large-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Layout {
  name: string;
  dtype: "F32" | "F64";
  shape: number[];
}

/**
 * A sparse safetensors file: the header for `tensors` (laid out in order) and `metadata`, a
 * file_crc32 over every byte, and `marks` (float32 values at byte offsets of the data) where the
 * rest is holes. Returns the file's path and where its data starts.
 */
function sparseFile(
  name: string,
  tensors: Layout[],
  metadata: Record<string, string>,
  marks: [number, number][],
): { path: string; dataStart: number } {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * (t.dtype === "F32" ? 4 : 8);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  header.__metadata__ = { ...metadata, file_crc32: "00000000" };
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  const dataStart = 8 + json.length;
  const path = join(dir, name);
  const fd = openSync(path, "w+");
  try {
    writeSync(fd, prefix, 0, 8, 0);
    writeSync(fd, json, 0, json.length, 8);
    for (const [at, value] of marks) {
      const mark = Buffer.alloc(4);
      mark.writeFloatLE(value);
      writeSync(fd, mark, 0, 4, dataStart + at);
    }
    // The file at its full length: everything unwritten is a hole.
    ftruncateSync(fd, dataStart + offset);
    const valueAt = 8 + json.indexOf('"file_crc32":"') + 14;
    // zlib's CRC over the file, 64 MiB at a time, leaving out the value's 8 digits.
    const chunk = Buffer.alloc(64 * 2 ** 20);
    let crc = 0;
    for (let at = 0; at < dataStart + offset; at += chunk.length) {
      const n = readSync(fd, chunk, 0, chunk.length, at);
      let piece = chunk.subarray(0, n);
      if (at <= valueAt && valueAt < at + n) {
        crc = zlibCrc32(piece.subarray(0, valueAt - at), crc);
        piece = piece.subarray(valueAt - at + 8);
      }
      crc = zlibCrc32(piece, crc);
    }
    writeSync(fd, Buffer.from(crc.toString(16).padStart(8, "0")), 0, 8, valueAt);
  } finally {
    closeSync(fd);
  }
  return { path, dataStart };
}

/** What a checkpoint of no training holds besides its weights (epoch 0: empty history tensors). */
const EMPTY_RUN = {
  metadata: {
    format: "elbo-vae-checkpoint/3",
    model: JSON.stringify({ inputDim: 784, latentDim: 2, encUnits: 8, decUnits: 8 }),
    training: JSON.stringify({ epochs: 1, batchSize: 1, lr: 0.01, seed: 1, limit: null, dataDir: null }),
    epoch: "0",
    optimizer: JSON.stringify({ step: 0, buffers: {} }),
    generator: JSON.stringify({ s: [1, 2, 3, 4], spareNormal: null }),
    data: "null",
  },
  tensors: ["loss", "bce", "kl", "seconds", "steps", "step_losses"].map(
    (n): Layout => ({ name: `history.${n}`, dtype: "F64", shape: [0] }),
  ),
};

describe("a safetensors file past 4 GiB", () => {
  it("is read from a file, one tensor larger than any byte array, another starting past 4 GiB", () => {
    // One float32 tensor of 4 GiB and 8 bytes (more bytes than a Uint8Array holds), then a small one.
    const big = GiB + 2;
    const marks: [number, number][] = [
      [4, 1.25],
      [3 * GiB, 2.25],
      [4 * GiB, 3.25],
      [4 * GiB + 4, 4.25],
      [big * 4, 5.25],
      [big * 4 + 4, 6.25],
    ];
    const { path } = sparseFile(
      "past-4.safetensors",
      [
        { name: "big", dtype: "F32", shape: [big] },
        { name: "tail", dtype: "F32", shape: [2] },
      ],
      { note: "past 4 GiB" },
      marks,
    );
    const { entries, metadata } = withRegularFile(path, { what: "safetensors file" }, (source) => {
      expect(source.size).toBeGreaterThan(4 * GiB);
      return parseSafetensors(source, path);
    });
    expect(metadata.note).toBe("past 4 GiB");
    expect(entries.big.data.length).toBe(big);
    for (const [at, value] of marks.slice(0, 4)) expect(entries.big.data[at / 4], `byte ${at}`).toBe(value);
    expect(Array.from(entries.tail.data)).toEqual([5.25, 6.25]);
  }, 180_000);

  it("is written in parts of at most 1 GiB and in calls of at most 1 GiB, every byte in order", () => {
    // A float32 tensor of 4 GiB and 8 bytes, never written to: its pages stay unallocated.
    const values = new Float32Array(GiB + 2);
    values[GiB + 1] = 7;
    const parts = encodeEntries({ big: { data: values, shape: [values.length] } }, { note: "n" });
    expect(parts.every((p) => p.length <= GiB)).toBe(true);
    const total = parts.reduce((n, p) => n + p.length, 0);
    const headerLength = Number(new DataView(parts[0].buffer, 0, 8).getBigUint64(0, true));
    expect(total).toBe(8 + headerLength + 4 * (GiB + 2));
    const header = JSON.parse(Buffer.from(parts[0].subarray(8)).toString());
    expect(header.big.data_offsets).toEqual([0, 4 * (GiB + 2)]);
    // The last part ends with the last value.
    const last = parts[parts.length - 1];
    expect(new Float32Array(last.buffer, last.byteOffset + last.length - 4, 1)[0]).toBe(7);

    // The writer takes the parts as they are: calls of at most 1 GiB (2 GiB is past what one
    // write(2) takes), each starting where the last one ended, all the parts' bytes in order.
    const calls: { bytes: Uint8Array; offset: number; length: number }[] = [];
    writeFileAtomic(join(dir, "written.safetensors"), parts, {
      write: (_fd, bytes, offset, length) => {
        calls.push({ bytes, offset, length });
        return length;
      },
    });
    expect(calls.every((c) => c.length <= GiB)).toBe(true);
    expect(calls.reduce((n, c) => n + c.length, 0)).toBe(total);
    const order = calls.map((c) => parts.indexOf(c.bytes));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(parts.length);
  }, 180_000);
});

describe("a checkpoint past 2 GiB", () => {
  it("is read back by loadCheckpoint (it used to fail: 'The value of \"length\" is out of range')", () => {
    // 2 GiB and 1 MiB of float32 weights, marked before, at and past 2 GiB.
    const count = (2 * GiB + 2 ** 20) / 4;
    const marks: [number, number][] = [
      [0, 1.5],
      [2 * GiB - 4, 2.5],
      [2 * GiB, 3.5],
      [count * 4 - 4, 4.5],
    ];
    const { path } = sparseFile(
      "past-2.safetensors",
      [...EMPTY_RUN.tensors, { name: "model.fc1.weight", dtype: "F32", shape: [count] }],
      EMPTY_RUN.metadata,
      marks,
    );
    const c = loadCheckpoint(path);
    const values = c.weights["fc1.weight"].dataSync();
    expect(values.length).toBe(count);
    for (const [at, value] of marks) expect(values[at / 4], `byte ${at}`).toBe(value);
    expect(values[count / 2]).toBe(0);
  }, 180_000);
});
