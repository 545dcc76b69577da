/**
 * The one WebAssembly module of the wasm backend: every kernel, generated from the TypeScript in
 * kernels-*.ts when the backend loads (it takes milliseconds, needs no toolchain, and runs the same
 * in Node and in a browser), over a memory it imports so that worker threads can share it.
 */
import { encodeModule, ValType } from "./encoding.ts";
import { FunctionBuilder, FunctionList, f32x4, v128 } from "./instructions.ts";
import { addCopyKernels } from "./kernels-copy.ts";
import { addElementwiseKernels } from "./kernels-elementwise.ts";
import { addLossKernels } from "./kernels-loss.ts";
import { addMatmulKernels } from "./kernels-matmul.ts";
import { addOptimizerKernels } from "./kernels-optim.ts";
import { addReduceKernels } from "./kernels-reduce.ts";
import { WebAssemblyApi } from "./wasm-api.ts";

/** Memory is counted in pages of 64 KiB. */
export const PAGE_BYTES = 65536;
/** 2 GiB: addresses stay below 2³¹, so they are the same read as signed or unsigned integers. */
export const MAX_PAGES = 32768;

/** Optional WebAssembly features the module may use. */
export interface ModuleFeatures {
  /** Relaxed SIMD's fused multiply-add in the matmul micro-kernel (see relaxedSimdSupported). */
  relaxedSimd: boolean;
}

/** The module's bytes, for a shared memory (threads) or not. */
export function moduleBytes(
  shared: boolean,
  initialPages: number,
  features: ModuleFeatures = { relaxedSimd: false },
): Uint8Array {
  const fns = new FunctionList();
  addMatmulKernels(fns, features);
  addElementwiseKernels(fns);
  addReduceKernels(fns);
  addOptimizerKernels(fns);
  addLossKernels(fns);
  addCopyKernels(fns);
  return encodeModule(fns.defs, { initialPages, maximumPages: MAX_PAGES, shared });
}

/** The exported kernels, as JavaScript sees them: every argument and result is a number. */
export type Kernels = Record<string, (...args: number[]) => number | undefined>;

/**
 * Whether this engine runs relaxed SIMD (Chrome 114+, Node 22+; Node 20 only with
 * --experimental-wasm-relaxed-simd): validates a one-instruction module that uses it.
 */
export function relaxedSimdSupported(): boolean {
  const f = new FunctionBuilder("probe", [ValType.v128]);
  const probe = f.finish(f32x4.relaxedMadd(v128.f32x4(1), v128.f32x4(2), v128.f32x4(3)));
  return WebAssemblyApi.validate(encodeModule([probe], { initialPages: 1, maximumPages: 1, shared: false }));
}
