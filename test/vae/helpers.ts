/** Small runs and checkpoints for the vae tests: 2×2-pixel images, so a run takes milliseconds. */
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
 * (`reseal`, the default) so that the check under test is reached, not the checksum's.
 */
export function joinSafetensors(header: unknown, data: Uint8Array, reseal = true): Uint8Array {
  const record = header as Record<string, unknown> | null;
  const metadata = record?.__metadata__ as Record<string, string> | undefined;
  const sealed =
    reseal && metadata?.crc32 !== undefined
      ? { ...record, __metadata__: { ...metadata, crc32: checksumOf(metadata, [data]) } }
      : header;
  const json = new TextEncoder().encode(JSON.stringify(sealed));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
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
