/**
 * A wasm backend's storage: a block of its one WebAssembly.Memory, handed out by the pool
 * (pool.ts), with the dtype and count of the numbers it holds.
 */
import type { DType, Storage } from "../backend.ts";

/** The bytes a block holds, and where: what the pool needs back when the storage goes. */
export interface Block {
  address: number;
  bytes: number;
}

export class WasmStorage implements Storage {
  constructor(
    readonly dtype: DType,
    readonly size: number,
    readonly block: Block,
  ) {}
}

export const bytesPer = (dtype: DType) => (dtype === "float64" ? 8 : 4);
