/**
 * The part of the WebAssembly JavaScript API this backend uses, typed here: the project compiles
 * against the plain ES2022 library (no DOM), which does not declare it, though every engine we run
 * on (Node, browsers) provides it.
 */

export interface WasmMemory {
  /** The memory's bytes; a SharedArrayBuffer when the memory is shared. Replaced when it grows. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Add `pages` pages of 64 KiB; returns the previous size in pages. */
  grow(pages: number): number;
}

/** A compiled module: can be instantiated many times, and posted to workers. */
export type WasmModule = object;

export interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
  Module: {
    new (bytes: Uint8Array): WasmModule;
    /** The names and kinds ("function", "memory", …) of a module's exports. */
    exports(module: WasmModule): { name: string; kind: string }[];
  };
  Instance: new (module: WasmModule, imports: object) => { exports: Record<string, unknown> };
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<{ exports: object }>;
  validate(bytes: Uint8Array): boolean;
}

export const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
