/**
 * `elbojs/wasm`: the WebAssembly backend with options of your choosing (threads, thresholds).
 * `useBackend("wasm")` needs none of this; it makes one with the defaults.
 */
export type { WasmOptions } from "./kernels/wasm/backend.ts";
export { WasmBackend } from "./kernels/wasm/backend.ts";
export { createWasmBackend } from "./kernels/wasm/create.ts";
