/**
 * Checkpoint files (Node): `saveCheckpoint` writes one atomically (src/train-mnist/files.ts), so a crash or
 * a full disk mid-write leaves the previous checkpoint whole; `loadCheckpoint` reads only a regular
 * file. What a checkpoint holds and how it is encoded is src/vae/checkpoint-format.ts.
 */
import {
  type Checkpoint,
  type DecodeOptions,
  decodeCheckpoint,
  encodeCheckpointParts,
} from "../vae/checkpoint-format.ts";
import { type WriteFunction, withRegularFile, writeFileAtomic } from "./files.ts";

export type { Checkpoint, TrainingConfig } from "../vae/checkpoint-format.ts";
export { writeFileAtomic } from "./files.ts";

export async function saveCheckpoint(
  path: string,
  c: Checkpoint,
  options: { write?: WriteFunction } = {},
): Promise<void> {
  writeFileAtomic(path, await encodeCheckpointParts(c), options);
}

/**
 * Read and check a checkpoint (see decodeCheckpoint); only a regular file is read, its size known
 * first, each tensor straight into an array of its own (a file of any size, not one array's worth).
 */
export function loadCheckpoint(path: string, options: DecodeOptions = {}): Checkpoint {
  return withRegularFile(path, { what: "checkpoint" }, (source) => decodeCheckpoint(source, path, options));
}
