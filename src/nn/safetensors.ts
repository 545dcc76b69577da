/**
 * The safetensors format (as used by Hugging Face), so checkpoints can be opened elsewhere:
 *   8 bytes   little-endian u64: N, the length of the header
 *   N bytes   JSON: { name: { dtype: "F32" | "F64", shape, data_offsets: [begin, end] }, "__metadata__": { key: string } }
 *   the rest  the tensors' bytes, little-endian, at their offsets
 */
import { fromTypedArray, type Tensor } from "../autograd/tensor.ts";
import type { TypedArray } from "../kernels/backend.ts";
import { sizeOf } from "../kernels/shape.ts";

const dtypeCodes = { float32: "F32", float64: "F64" } as const;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The file's bytes. Async because reading a tensor's values waits for its kernels on some backends. */
export async function encodeSafetensors(
  tensors: Readonly<Record<string, Tensor>>,
  metadata: Readonly<Record<string, string>> = {},
): Promise<Uint8Array> {
  const header: Record<string, HeaderEntry | Record<string, string>> = { __metadata__: { ...metadata } };
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const data = await t.data();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = {
      dtype: dtypeCodes[t.dtype],
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes.length],
    };
    blobs.push(bytes);
    offset += bytes.length;
  }
  // Pad the header with spaces to a multiple of 8 so the data that follows is aligned for Float64Array.
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + json.length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
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

/** Parse a safetensors file's bytes; `file` names it in errors. Tensors are created on the current backend. */
export function decodeSafetensors(
  bytes: Uint8Array,
  file: string,
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const fail = (what: string): never => {
    throw new Error(`${file}: not a valid safetensors checkpoint: ${what}`);
  };
  if (bytes.length < 8) fail(`only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length)
    fail(`header length ${headerLength} runs past the end of the file (${bytes.length} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    return fail(`header is not JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors: Record<string, Tensor> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets } = entry as HeaderEntry;
    const [begin, end] = data_offsets ?? [];
    const width =
      dtype === "F32" ? 4 : dtype === "F64" ? 8 : fail(`tensor ${name} has unsupported dtype ${dtype}`);
    if (!Array.isArray(shape) || end - begin !== sizeOf(shape) * width || dataStart + end > bytes.length) {
      fail(`tensor ${name}: shape [${shape}] and offsets [${begin}, ${end}] do not fit the file`);
    }
    // A copy, not a view: Node's Buffer.slice shares memory, and the data may not be aligned for the typed array.
    const copy = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end)).buffer;
    const data: TypedArray = width === 4 ? new Float32Array(copy) : new Float64Array(copy);
    tensors[name] = fromTypedArray(data, shape);
  }
  return { tensors, metadata };
}
