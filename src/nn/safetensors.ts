/**
 * The safetensors format (as used by Hugging Face), so checkpoints can be opened elsewhere:
 *   8 bytes   little-endian u64: N, the length of the header
 *   N bytes   JSON: { name: { dtype: "F32" | "F64", shape, data_offsets: [begin, end] }, "__metadata__": { key: string } }
 *   the rest  the tensors' bytes, little-endian, at their offsets
 * Files written with `checksum` also carry "crc32" in their metadata: the CRC-32 of the other
 * metadata entries and of the data, checked when read, so a flipped bit is an error, not a value.
 */
import { fromTypedArray, type Tensor } from "../autograd/tensor.ts";
import type { TypedArray } from "../kernels/backend.ts";
import { crc32 } from "./crc32.ts";

const dtypeCodes = { float32: "F32", float64: "F64" } as const;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * The file's bytes. Async because reading a tensor's values waits for its kernels on some backends.
 * With `finiteOnly`, a tensor holding NaN or ±Infinity is refused, naming it, and nothing is returned;
 * with `checksum`, the metadata gets a "crc32" entry.
 */
export async function encodeSafetensors(
  tensors: Readonly<Record<string, Tensor>>,
  metadata: Readonly<Record<string, string>> = {},
  options: { finiteOnly?: boolean; checksum?: boolean } = {},
): Promise<Uint8Array> {
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const data = await t.data();
    if (options.finiteOnly === true) {
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        throw new Error(
          `safetensors: tensor ${name} holds ${data[bad]} at index ${bad}; only finite values may be saved`,
        );
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = {
      dtype: dtypeCodes[t.dtype],
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes.length],
    };
    blobs.push(bytes);
    offset += bytes.length;
  }
  header.__metadata__ =
    options.checksum === true ? { ...metadata, crc32: checksumOf(metadata, blobs) } : { ...metadata };
  // Pad the header with spaces to a multiple of 8 bytes so the data that follows is aligned for Float64Array.
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(json.length + ((8 - ((8 + json.length) % 8)) % 8)).fill(0x20);
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const b of blobs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** One tensor of a parsed file: its values, not yet on a backend. */
export interface SafetensorsEntry {
  data: TypedArray;
  shape: number[];
}

/**
 * Largest header accepted (Hugging Face's reader allows 100 MB): a damaged length field must not
 * make the reader allocate gigabytes.
 */
const MAX_HEADER_BYTES = 100_000_000;

/**
 * Parse and check a safetensors file's bytes; `file` names it in errors. Everything is checked
 * before any value is copied: the header is a JSON object, every entry has a known dtype, a shape of
 * non-negative integers and offsets that match it, and the entries tile the data area exactly, in
 * order, without gaps or overlaps (as the format requires), so no tensor can read another's bytes.
 */
export function parseSafetensors(
  bytes: Uint8Array,
  file: string,
): { entries: Record<string, SafetensorsEntry>; metadata: Record<string, string> } {
  const fail = (what: string): never => {
    throw new Error(`${file}: not a valid safetensors checkpoint: ${what}`);
  };
  if (bytes.length < 8) fail(`only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8))
    fail(`header length ${declared} runs past the end of the file (${bytes.length} bytes)`);
  const headerLength = Number(declared);
  if (headerLength > MAX_HEADER_BYTES)
    fail(`header length ${headerLength} is over the ${MAX_HEADER_BYTES} allowed`);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)),
    );
  } catch (e) {
    return fail(`header is not JSON (${(e as Error).message})`);
  }
  if (!isRecord(header)) return fail(`header is ${describe(header)}, not a JSON object`);
  const metadata = header.__metadata__ ?? {};
  if (!isRecord(metadata) || Object.values(metadata).some((v) => typeof v !== "string")) {
    fail(`__metadata__ must be an object of strings`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const layout: { name: string; dtype: "F32" | "F64"; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (!isRecord(entry)) return fail(`tensor ${name} is ${describe(entry)}, not an object`);
    const { dtype, shape, data_offsets } = entry;
    if (dtype !== "F32" && dtype !== "F64")
      return fail(`tensor ${name} has unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      return fail(`tensor ${name}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every(isCount)) {
      return fail(
        `tensor ${name}: data_offsets ${JSON.stringify(data_offsets)} is not two non-negative integers`,
      );
    }
    const [begin, end] = data_offsets as [number, number];
    const width = dtype === "F32" ? 4 : 8;
    const size = shape.reduce((a: number, d: number) => a * d, 1);
    // end < begin needs no test of its own: a negative length is never size · width.
    if (end > dataLength || end - begin !== size * width) {
      fail(
        `tensor ${name}: shape [${shape}] of ${dtype} and offsets [${begin}, ${end}] do not fit the file (${dataLength} bytes of data)`,
      );
    }
    layout.push({ name, dtype, shape, begin, end });
  }
  layout.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const t of layout) {
    if (t.begin !== expected) {
      fail(
        `tensor ${t.name} starts at byte ${t.begin} of the data but the tensors before it end at ${expected} (the data must be tiled without gaps or overlaps)`,
      );
    }
    expected = t.end;
  }
  if (expected !== dataLength)
    fail(`the tensors cover ${expected} bytes of data but the file holds ${dataLength}`);
  const stored = (metadata as Record<string, string>).crc32;
  if (stored !== undefined) {
    const computed = checksumOf(metadata as Record<string, string>, [bytes.subarray(dataStart)]);
    if (stored !== computed)
      fail(`checksum ${computed} does not match the stored ${stored}: the file is damaged`);
  }

  const entries: Record<string, SafetensorsEntry> = {};
  for (const { name, dtype, shape, begin, end } of layout) {
    // A copy, not a view: Node's Buffer.slice shares memory, and the data may not be aligned for the typed array.
    const copy = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end)).buffer;
    entries[name] = { data: dtype === "F32" ? new Float32Array(copy) : new Float64Array(copy), shape };
  }
  return { entries, metadata: metadata as Record<string, string> };
}

/** Parse a safetensors file's bytes (checked as `parseSafetensors` does) into tensors on the current backend. */
export function decodeSafetensors(
  bytes: Uint8Array,
  file: string,
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const { entries, metadata } = parseSafetensors(bytes, file);
  const tensors: Record<string, Tensor> = {};
  for (const [name, { data, shape }] of Object.entries(entries)) tensors[name] = fromTypedArray(data, shape);
  return { tensors, metadata };
}

/** CRC-32 of the metadata entries other than "crc32" (sorted by key, NUL-separated) and of the data. */
export function checksumOf(metadata: Readonly<Record<string, string>>, data: Uint8Array[]): string {
  const encoder = new TextEncoder();
  // sort() with no comparator orders the keys by UTF-16 code units, on every engine.
  const entries = Object.keys(metadata)
    .filter((key) => key !== "crc32")
    .sort()
    .map((key) => encoder.encode(`${key}\0${metadata[key]}\0`));
  return crc32([...entries, ...data]);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function isCount(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

function describe(x: unknown): string {
  return x === null ? "null" : Array.isArray(x) ? "an array" : `a ${typeof x}`;
}
