/**
 * Fused elementwise kernels: a group that compile/fuse.ts found (elementwise ops that feed only
 * each other) as one generated WebAssembly function, which loads each input once, keeps every
 * intermediate in a v128 register and stores one result. The arithmetic of each op is the
 * backend's own vector code (kernels-elementwise.ts), in the group's order, so a fused kernel
 * gives its ops' numbers bit for bit.
 *
 *   fused(leaf₀, …, leafₖ₋₁, out, n): out[i] = the group's ops on leafⱼ[i] (or leafⱼ[0] for a
 *   single number), for n floats, four at a time then the tail (vector-loop.ts)
 *
 * A program's groups go into a small module of their own, over the backend's memory, made when
 * the program is lowered; this thread runs them (the worker threads know only the main module).
 */
import type { FusedGroup, FusedOperand } from "../../compile/fuse.ts";
import type { BinaryOp, UnaryOp } from "../backend.ts";
import { encodeModule, type FunctionDef, ValType } from "./encoding.ts";
import { FunctionBuilder, get, type Local, type Stmts, set, v128 } from "./instructions.ts";
import { binaryKernels, unaryKernels } from "./kernels-elementwise.ts";
import { MAX_PAGES } from "./module.ts";
import { loadLanes, storeLanes, vectorLoop } from "./vector-loop.ts";
import { type WasmMemory, WebAssemblyApi } from "./wasm-api.ts";

/** What this backend can fuse: the ops with vector code (the rest run as host code). */
export const fusible = {
  unary: (op: UnaryOp) => op in unaryKernels,
  binary: (op: BinaryOp) => op in binaryKernels,
};

/** One group's kernel; `single[j]` says whether leaf j is one number (splat) rather than an array. */
function fusedKernel(name: string, group: FusedGroup, single: readonly boolean[]): FunctionDef {
  const f = new FunctionBuilder(name);
  const leaves = group.leaves.map(() => f.param(ValType.i32));
  const out = f.param(ValType.i32);
  const n = f.param(ValType.i32);
  const leafValues = leaves.map(() => f.local(ValType.v128));
  const results = group.ops.map(() => f.local(ValType.v128));
  const value = (o: FusedOperand): Local => ("leaf" in o ? leafValues[o.leaf] : results[o.op]);
  const arrays = leaves.filter((_, j) => !single[j]);
  const body = (tail: boolean): Stmts => [
    leaves.map((p, j) => (single[j] ? [] : set(leafValues[j], loadLanes(p, tail)))),
    group.ops.map((op, i) => {
      if (op.kind === "unary")
        return unaryKernels[op.op as keyof typeof unaryKernels](f, value(op.x), results[i]);
      const code = binaryKernels[op.op as keyof typeof binaryKernels];
      return set(results[i], code(value(op.a), value(op.b)));
    }),
    storeLanes(out, get(results[results.length - 1]), tail),
  ];
  return f.finish(
    // A single number is loaded once, into all four lanes.
    leaves.map((p, j) => (single[j] ? set(leafValues[j], v128.load32Splat(get(p))) : [])),
    vectorLoop(f, [out, ...arrays], n, body),
  );
}

/**
 * The groups' kernels in one module over `memory` (shared or not, as the backend's is), compiled
 * now; `sizes` gives each value's size, to tell single numbers from arrays.
 */
export function fusedKernels(
  groups: readonly FusedGroup[],
  sizes: (value: number) => number,
  memory: WasmMemory,
): ((...args: number[]) => unknown)[] {
  if (groups.length === 0) return [];
  const defs = groups.map((g, i) =>
    fusedKernel(
      `fused_${i}`,
      g,
      g.leaves.map((v) => sizes(v) === 1),
    ),
  );
  const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  const bytes = encodeModule(defs, { initialPages: 1, maximumPages: MAX_PAGES, shared });
  const instance = new WebAssemblyApi.Instance(new WebAssemblyApi.Module(bytes), { env: { memory } });
  return defs.map((d) => instance.exports[d.name] as (...args: number[]) => unknown);
}
