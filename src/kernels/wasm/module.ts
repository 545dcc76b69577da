/**
 * The one WebAssembly module of the wasm backend: every kernel, generated from the TypeScript in
 * kernels-*.ts when the backend loads (it takes milliseconds, needs no toolchain, and runs the same
 * in Node and in a browser), over a memory it imports so that worker threads can share it.
 */
import { encodeModule } from "./encoding.ts";
import { FunctionList } from "./instructions.ts";
import { addElementwiseKernels } from "./kernels-elementwise.ts";
import { addMatmulKernels } from "./kernels-matmul.ts";
import { addOptimizerKernels } from "./kernels-optim.ts";
import { addReduceKernels } from "./kernels-reduce.ts";

/** Memory is counted in pages of 64 KiB. */
export const PAGE_BYTES = 65536;
/** 2 GiB: addresses stay below 2³¹, so they are the same read as signed or unsigned integers. */
export const MAX_PAGES = 32768;

/** The module's bytes, for a shared memory (threads) or not. */
export function moduleBytes(shared: boolean, initialPages: number): Uint8Array {
  const fns = new FunctionList();
  addMatmulKernels(fns);
  addElementwiseKernels(fns);
  addReduceKernels(fns);
  addOptimizerKernels(fns);
  return encodeModule(fns.defs, { initialPages, maximumPages: MAX_PAGES, shared });
}

/** The exported kernels, as JavaScript sees them: every argument and result is a number. */
export type Kernels = Record<string, (...args: number[]) => number | undefined>;
