/** Small runs and checkpoints for the vae tests: 2×2-pixel images, so a run takes milliseconds. */
import { crc32 } from "../../src/nn/crc32.ts";
import { checksumOf } from "../../src/nn/safetensors.ts";
import type { TrainingConfig } from "../../src/vae/checkpoint-format.ts";
import type { Dataset } from "../../src/vae/dataset.ts";
import type { VaeConfig } from "../../src/vae/model.ts";

export const tinyConfig: VaeConfig = { inputDim: 4, latentDim: 2, encUnits: 3, decUnits: 3 };

export function tinyTraining(overrides: Partial<TrainingConfig> = {}): TrainingConfig {
  return { epochs: 2, batchSize: 4, lr: 0.01, seed: 5, limit: null, dataDir: null, ...overrides };
}

/** `count` images of rows×cols pixels with values in [0, 1], labels 0..9 in turn. */
export function tinyDataset(count: number, rows = 2, cols = 2, seed = 1): Dataset {
  const images = Float32Array.from(
    { length: count * rows * cols },
    (_, i) => ((i * 37 + seed * 11) % 101) / 100,
  );
  return { images, labels: Uint8Array.from({ length: count }, (_, i) => i % 10), count, rows, cols };
}

/** The header JSON and data bytes of a safetensors file. */
export function splitSafetensors(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return {
    header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length))),
    data: bytes.subarray(8 + length),
  };
}

/**
 * A safetensors file from a header (any JSON value) and data bytes. Its checksum is recomputed
 * (`reseal`, the default) so that the check under test is reached, not the checksum's: "file_crc32"
 * over every byte but its own value's 8 digits, or an older file's "crc32" over metadata and data.
 */
export function joinSafetensors(header: unknown, data: Uint8Array, reseal = true): Uint8Array {
  const record = header as Record<string, unknown> | null;
  const metadata = record?.__metadata__ as Record<string, string> | undefined;
  const legacy = reseal && metadata?.crc32 !== undefined;
  const whole = reseal && metadata?.file_crc32 !== undefined;
  const sealed =
    legacy || whole
      ? {
          ...record,
          __metadata__: {
            ...metadata,
            ...(legacy ? { crc32: checksumOf(metadata as Record<string, string>, [data]) } : {}),
            ...(whole ? { file_crc32: "00000000" } : {}),
          },
        }
      : header;
  const text = JSON.stringify(sealed);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  if (whole) {
    const key = '"file_crc32":"';
    const at =
      8 + new TextEncoder().encode(text.slice(0, text.indexOf(`${key}00000000"`) + key.length)).length;
    out.set(new TextEncoder().encode(crc32([out.subarray(0, at), out.subarray(at + 8)])), at);
  }
  return out;
}

/** Change one field of a checkpoint's metadata (each field is a JSON string). */
export function withMetadata(bytes: Uint8Array, key: string, value: string | undefined): Uint8Array {
  const { header, data } = splitSafetensors(bytes);
  const metadata = { ...(header.__metadata__ as Record<string, string>) };
  if (value === undefined) delete metadata[key];
  else metadata[key] = value;
  return joinSafetensors({ ...header, __metadata__: metadata }, data);
}

/** A tensor of a safetensors file, as `editTensors` hands it out: its dtype code, shape and values. */
export interface EditableTensor {
  dtype: "F32" | "F64";
  shape: number[];
  data: Float32Array | Float64Array;
}

/**
 * The file with its tensors changed by `edit` (add, remove, or replace any; sizes may change), laid
 * out again in order and resealed: the checks after the layout's and the checksum's are reached.
 * `metadata` edits the metadata the same way.
 */
export function editTensors(
  bytes: Uint8Array,
  edit: (tensors: Record<string, EditableTensor>) => void,
  metadata: (m: Record<string, string>) => void = () => {},
): Uint8Array {
  const { header, data } = splitSafetensors(bytes);
  const tensors: Record<string, EditableTensor> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets } = entry as {
      dtype: "F32" | "F64";
      shape: number[];
      data_offsets: [number, number];
    };
    const slice = data.slice(data_offsets[0], data_offsets[1]).buffer;
    tensors[name] = {
      dtype,
      shape,
      data: dtype === "F32" ? new Float32Array(slice) : new Float64Array(slice),
    };
  }
  edit(tensors);
  const meta = { ...(header.__metadata__ as Record<string, string>) };
  metadata(meta);
  const out: Record<string, unknown> = { __metadata__: meta };
  const pieces: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const piece = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + piece.length] };
    pieces.push(piece);
    offset += piece.length;
  }
  const joined = new Uint8Array(offset);
  let at = 0;
  for (const p of pieces) {
    joined.set(p, at);
    at += p.length;
  }
  return joinSafetensors(out, joined);
}

/** The history a version-3 checkpoint's tensors hold, rebuilt here from their bytes. */
export function historyInFile(bytes: Uint8Array): Record<string, unknown>[] {
  const { header, data } = splitSafetensors(bytes);
  const column = (name: string) => {
    const [begin, end] = (header[`history.${name}`] as { data_offsets: [number, number] }).data_offsets;
    return Array.from(new Float64Array(data.slice(begin, end).buffer));
  };
  const steps = column("steps");
  const losses = column("step_losses");
  const [bce, kl, seconds] = [column("bce"), column("kl"), column("seconds")];
  let at = 0;
  return column("loss").map((loss, i) => {
    const stepLosses = losses.slice(at, at + steps[i]);
    at += steps[i];
    return { epoch: i + 1, loss, bce: bce[i], kl: kl[i], seconds: seconds[i], stepLosses };
  });
}

/**
 * A version-3 checkpoint as elbo wrote it in version 2: the history as JSON in the header, no data
 * fingerprint, and the older checksum ("crc32", of the metadata and the data).
 */
export function asVersion2(bytes: Uint8Array): Uint8Array {
  const history = historyInFile(bytes);
  return editTensors(
    bytes,
    (tensors) => {
      for (const name of Object.keys(tensors)) if (name.startsWith("history.")) delete tensors[name];
    },
    (m) => {
      m.format = "elbo-vae-checkpoint/2";
      m.history = JSON.stringify(history);
      delete m.data;
      delete m.file_crc32;
      m.crc32 = "00000000";
    },
  );
}
