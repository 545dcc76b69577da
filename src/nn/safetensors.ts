/**
 * The safetensors format (as used by Hugging Face), so checkpoints can be opened elsewhere:
 *   8 bytes   little-endian u64: N, the length of the header
 *   N bytes   JSON: { name: { dtype: "F32" | "F64", shape, data_offsets: [begin, end] }, "__metadata__": { key: string } }
 *   the rest  the tensors' bytes, little-endian, at their offsets
 * Files written with `checksum` also carry "file_crc32" in their metadata: the CRC-32 of every
 * byte of the file except the 8 hex digits of that value, checked when read, so a flipped bit or
 * an edited header (two tensors' offsets swapped, say) is an error, not a value. Files written by
 * elbo before it carry "crc32" instead, the CRC-32 of the other metadata entries and of the data
 * only, and are still checked by it.
 *
 * Both directions work in pieces: a file can be larger than one JavaScript array (4 GiB in Node
 * 20), so the writer returns it as parts and the reader fills each tensor from a `ByteSource`.
 */
import { fromTypedArray, Tensor } from "../autograd/tensor.ts";
import type { TypedArray } from "../kernels/backend.ts";
import { crc32 } from "./crc32.ts";

const dtypeCodes = { float32: "F32", float64: "F64" } as const;

/**
 * Largest header accepted (Hugging Face's reader allows 100 MB): a damaged length field must not
 * make the reader allocate gigabytes. The writer refuses a header this reader would refuse.
 */
export const MAX_HEADER_BYTES = 100_000_000;

/** The checksum's metadata key, and the one elbo wrote before (metadata and data only). */
const FILE_CHECKSUM = "file_crc32";
const LEGACY_CHECKSUM = "crc32";

/** The value the writer puts where the checksum goes, before it is known. */
const PLACEHOLDER = "00000000";

/** Bytes per piece of a tensor: typed-array views and reads stay far below their 2³¹ and 2³² limits. */
const PIECE_BYTES = 1 << 30;

/** One tensor's values on the host, and its shape: what a file holds. */
export interface SafetensorsEntry {
  data: TypedArray;
  shape: number[];
}

/**
 * The file's bytes as one array. Async because reading a tensor's values waits for its kernels on
 * some backends. With `finiteOnly`, a tensor holding NaN or ±Infinity is refused, naming it, and
 * nothing is returned; with `checksum`, the metadata gets a "file_crc32" entry. A file over what
 * one array holds is refused: write `encodeSafetensorsParts` one part after another instead.
 */
export async function encodeSafetensors(
  tensors: Readonly<Record<string, Tensor>>,
  metadata: Readonly<Record<string, string>> = {},
  options: EncodeOptions = {},
): Promise<Uint8Array> {
  return joinParts(await encodeSafetensorsParts(tensors, metadata, options));
}

export interface EncodeOptions {
  finiteOnly?: boolean;
  checksum?: boolean;
}

/** The file as parts to write one after another: the length and header, then the data in pieces. */
export async function encodeSafetensorsParts(
  tensors: Readonly<Record<string, Tensor>>,
  metadata: Readonly<Record<string, string>> = {},
  options: EncodeOptions = {},
): Promise<Uint8Array[]> {
  const entries: Record<string, SafetensorsEntry> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t instanceof Tensor)) throw new Error(`safetensors: ${name} is ${describe(t)}, not a Tensor`);
    entries[name] = { data: await t.data(), shape: [...t.shape] };
  }
  return encodeEntries(entries, metadata, options);
}

/**
 * The parts of a file holding `entries`. Everything its reader would refuse is refused here first,
 * naming it: a tensor called "__metadata__", a metadata key of the checksum's, a value that is not
 * a string, a name that UTF-8 cannot carry (a lone surrogate would come back as another name), a
 * header over MAX_HEADER_BYTES.
 */
export function encodeEntries(
  entries: Readonly<Record<string, SafetensorsEntry>>,
  metadata: Readonly<Record<string, string>>,
  options: EncodeOptions = {},
): Uint8Array[] {
  for (const [key, value] of Object.entries(metadata)) {
    if (key === FILE_CHECKSUM || key === LEGACY_CHECKSUM)
      throw new Error(`safetensors: metadata key "${key}" is the checksum's own; choose another key`);
    if (typeof value !== "string")
      throw new Error(`safetensors: metadata "${key}" is ${describe(value)}; every value must be a string`);
    checkCarried(`metadata key ${JSON.stringify(key)}`, key);
    checkCarried(`metadata "${key}"`, value);
  }
  const header: Record<string, unknown> = {};
  const data: Uint8Array[] = [];
  let offset = 0;
  for (const [name, { data: values, shape }] of Object.entries(entries)) {
    if (name === "__metadata__")
      throw new Error(`safetensors: a tensor cannot be called "__metadata__", the format's metadata entry`);
    checkCarried(`tensor name ${JSON.stringify(name)}`, name);
    if (options.finiteOnly === true) {
      const bad = indexOfNonFinite(values);
      if (bad >= 0)
        throw new Error(
          `safetensors: tensor ${name} holds ${values[bad]} at index ${bad}; only finite values may be saved`,
        );
    }
    header[name] = {
      dtype: values instanceof Float64Array ? dtypeCodes.float64 : dtypeCodes.float32,
      shape,
      data_offsets: [offset, offset + values.byteLength],
    };
    for (const piece of bytePieces(values)) data.push(piece);
    offset += values.byteLength;
  }
  header.__metadata__ =
    options.checksum === true ? { ...metadata, [FILE_CHECKSUM]: PLACEHOLDER } : { ...metadata };
  const json = JSON.stringify(header);
  const encoded = new TextEncoder().encode(json);
  // Pad the header with spaces to a multiple of 8 bytes so the data that follows is aligned for Float64Array.
  const headerLength = encoded.length + ((8 - (encoded.length % 8)) % 8);
  if (headerLength > MAX_HEADER_BYTES) {
    throw new Error(
      `safetensors: the header would be ${headerLength} bytes, over the ${MAX_HEADER_BYTES} a reader accepts`,
    );
  }
  const head = new Uint8Array(8 + headerLength).fill(0x20);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(encoded, 8);
  if (options.checksum === true) {
    // The key is reserved above, so `"file_crc32":"` occurs once: where the metadata holds it.
    const before = json.indexOf(`"${FILE_CHECKSUM}":"${PLACEHOLDER}"`) + FILE_CHECKSUM.length + 4;
    const at = 8 + new TextEncoder().encode(json.slice(0, before)).length;
    const sum = crc32([head.subarray(0, at), head.subarray(at + PLACEHOLDER.length), ...data]);
    head.set(new TextEncoder().encode(sum), at);
  }
  return [head, ...data];
}

/** Random access to a file's bytes, so that a file larger than one array can be read. */
export interface ByteSource {
  readonly size: number;
  /** Fill `into` with the bytes from `position` on (throws if there are fewer). */
  read(into: Uint8Array, position: number): void;
}

/** Bytes in memory as a ByteSource. */
function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (into, position) => into.set(bytes.subarray(position, position + into.length)),
  };
}

/**
 * Parse and check a safetensors file (its bytes, or a ByteSource over it); `file` names it in
 * errors. Everything is checked before any value is read: the header is a JSON object, every entry
 * has a known dtype, a shape of non-negative integers and offsets that match it, and the entries
 * tile the data area exactly, in order, without gaps or overlaps (as the format requires), so no
 * tensor can read another's bytes. Then each tensor is read into an array of its own, and the
 * checksum, if any, is compared.
 */
export function parseSafetensors(
  bytes: Uint8Array | ByteSource,
  file: string,
): { entries: Record<string, SafetensorsEntry>; metadata: Record<string, string> } {
  const source = bytes instanceof Uint8Array ? memorySource(bytes) : bytes;
  const fail = (what: string): never => {
    throw new Error(`${file}: not a valid safetensors checkpoint: ${what}`);
  };
  if (source.size < 8) fail(`only ${source.size} bytes`);
  const prefix = new Uint8Array(8);
  source.read(prefix, 0);
  const declared = new DataView(prefix.buffer).getBigUint64(0, true);
  if (declared > BigInt(source.size - 8))
    fail(`header length ${declared} runs past the end of the file (${source.size} bytes)`);
  const headerLength = Number(declared);
  if (headerLength > MAX_HEADER_BYTES)
    fail(`header length ${headerLength} is over the ${MAX_HEADER_BYTES} allowed`);
  const headerBytes = new Uint8Array(headerLength);
  source.read(headerBytes, 8);
  let text = "";
  let header: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not JSON (${(e as Error).message})`);
  }
  if (!isRecord(header)) return fail(`header is ${describe(header)}, not a JSON object`);
  const metadata = header.__metadata__ ?? {};
  if (!isRecord(metadata) || Object.values(metadata).some((v) => typeof v !== "string")) {
    fail(`__metadata__ must be an object of strings`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = source.size - dataStart;
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

  const entries: Record<string, SafetensorsEntry> = {};
  const data: Uint8Array[] = [];
  for (const { name, dtype, shape, begin, end } of layout) {
    // An array of its own, filled piece by piece: aligned, and not a view of a larger buffer.
    const values =
      dtype === "F32" ? new Float32Array((end - begin) / 4) : new Float64Array((end - begin) / 8);
    let at = dataStart + begin;
    for (const piece of bytePieces(values)) {
      source.read(piece, at);
      at += piece.length;
      data.push(piece);
    }
    entries[name] = { data: values, shape };
  }
  const strings = metadata as Record<string, string>;
  if (strings[FILE_CHECKSUM] !== undefined) {
    const stored = strings[FILE_CHECKSUM];
    const key = `"${FILE_CHECKSUM}":"`;
    const found = text.indexOf(`${key}${stored}"`);
    // Written by this writer, the key occurs once, as JSON.stringify puts it.
    if (found < 0 || text.indexOf(key, text.indexOf(key) + 1) >= 0)
      fail(`the checksum entry is not written as ${key}<8 hex digits>" once`);
    const at = 8 + new TextEncoder().encode(text.slice(0, found + key.length)).length;
    const head = new Uint8Array(dataStart);
    head.set(prefix);
    head.set(headerBytes, 8);
    const computed = crc32([head.subarray(0, at), head.subarray(at + stored.length), ...data]);
    if (stored !== computed)
      fail(`checksum ${computed} does not match the stored ${stored}: the file is damaged`);
  }
  if (strings[LEGACY_CHECKSUM] !== undefined) {
    const stored = strings[LEGACY_CHECKSUM];
    const computed = checksumOf(strings, data);
    if (stored !== computed)
      fail(`checksum ${computed} does not match the stored ${stored}: the file is damaged`);
  }
  return { entries, metadata: strings };
}

/** Parse a safetensors file's bytes (checked as `parseSafetensors` does) into tensors on the current backend. */
export function decodeSafetensors(
  bytes: Uint8Array | ByteSource,
  file: string,
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const { entries, metadata } = parseSafetensors(bytes, file);
  const tensors: Record<string, Tensor> = {};
  for (const [name, { data, shape }] of Object.entries(entries)) {
    tensors[name] = fromTypedArray(data, shape);
  }
  return { tensors, metadata };
}

/**
 * The checksum elbo wrote before "file_crc32": the CRC-32 of the metadata entries other than
 * "crc32" (sorted by key, NUL-separated) and of the data.
 */
export function checksumOf(metadata: Readonly<Record<string, string>>, data: Uint8Array[]): string {
  const encoder = new TextEncoder();
  // sort() with no comparator orders the keys by UTF-16 code units, on every engine.
  const entries = Object.keys(metadata)
    .filter((key) => key !== LEGACY_CHECKSUM)
    .sort()
    .map((key) => encoder.encode(`${key}\0${metadata[key]}\0`));
  return crc32([...entries, ...data]);
}

/** The parts as one array, or an error saying to write them one by one when they do not fit one. */
export function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  let out: Uint8Array;
  try {
    out = new Uint8Array(total);
  } catch {
    throw new Error(
      `safetensors: the file is ${total} bytes, more than one array holds here; write encodeSafetensorsParts' parts one after another`,
    );
  }
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The index of the first NaN or ±Infinity in `values`, or −1: a plain loop, fast over gigabytes. */
export function indexOfNonFinite(values: TypedArray): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/** Views of an array's bytes, each at most PIECE_BYTES long. */
function bytePieces(values: TypedArray): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < values.byteLength; at += PIECE_BYTES) {
    const length = Math.min(PIECE_BYTES, values.byteLength - at);
    pieces.push(new Uint8Array(values.buffer, values.byteOffset + at, length));
  }
  return pieces;
}

/** Refuse a string with a lone surrogate: UTF-8 cannot carry it, and it would be read back as U+FFFD. */
function checkCarried(what: string, s: string): void {
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s))
    throw new Error(`safetensors: ${what} holds a lone UTF-16 surrogate, which UTF-8 cannot carry`);
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
