/**
 * Elementwise kernels on float32: unary maps, and binary maps over rows with broadcasting.
 *
 * Each kernel walks its arrays four numbers at a time in v128 registers, then finishes the last
 * n mod 4 numbers one at a time — by putting each alone in a vector (a splat) and running the
 * same vector code, so that the tail gives exactly what the body would have (vector-loop.ts).
 *
 * Every op reproduces the plain TypeScript backend's scalar definition lane by lane, including
 * NaN and signed zeros: e.g. relu(NaN) = NaN and relu(-0) = 0 (`x > 0 || x !== x ? x : 0`), which is
 * f32x4.max(x, 0) (it propagates NaN and orders -0 below 0), not f32x4.pmax (which drops NaN).
 */
import type { BinaryOp, UnaryOp } from "../backend.ts";
import { type FunctionDef, ValType } from "./encoding.ts";
import {
  type Code,
  FunctionBuilder,
  type FunctionList,
  f32x4,
  get,
  i32,
  type Local,
  set,
  v128,
} from "./instructions.ts";
import { exp, log, sigmoid, softplus, tanh, type VectorFunction } from "./simd-math.ts";
import { loadLanes, storeLanes, vectorLoop } from "./vector-loop.ts";

const zero = () => v128.f32x4(0);
const one = () => v128.f32x4(1);

/** The unary ops computed in WebAssembly (the rest run in JavaScript on the same memory). */
export const unaryKernels = {
  neg: (_f, x, out) => set(out, f32x4.neg(get(x))),
  abs: (_f, x, out) => set(out, f32x4.abs(get(x))),
  sqrt: (_f, x, out) => set(out, f32x4.sqrt(get(x))),
  // max(x, 0) is `x > 0 || x !== x ? x : 0`: the reference exactly, NaN and -0 included, in one instruction.
  relu: (_f, x, out) => set(out, f32x4.max(get(x), zero())),
  // Math.sign: -1, 1, or x itself for ±0 and NaN.
  sign: (_f, x, out) =>
    set(
      out,
      v128.bitselect(
        v128.f32x4(-1),
        v128.bitselect(one(), get(x), f32x4.gt(get(x), zero())),
        f32x4.lt(get(x), zero()),
      ),
    ),
  exp,
  log,
  sigmoid,
  softplus,
  tanh,
} satisfies Partial<Record<UnaryOp, VectorFunction>>;

/** `out` = a op b, lane by lane, as the scalar reference defines it. */
type VectorOp = (a: Local, b: Local) => Code;

export const binaryKernels = {
  add: (a, b) => f32x4.add(get(a), get(b)),
  sub: (a, b) => f32x4.sub(get(a), get(b)),
  mul: (a, b) => f32x4.mul(get(a), get(b)),
  div: (a, b) => f32x4.div(get(a), get(b)),
  // a >= b || a !== a ? a : b: a NaN on either side comes through (as NumPy's maximum), and
  // of ±0 the first is kept, which f32x4.max would not do.
  max: (a, b) => v128.bitselect(get(a), get(b), v128.or(f32x4.ge(get(a), get(b)), f32x4.ne(get(a), get(a)))),
  min: (a, b) => v128.bitselect(get(a), get(b), v128.or(f32x4.le(get(a), get(b)), f32x4.ne(get(a), get(a)))),
  eq: (a, b) => v128.and(f32x4.eq(get(a), get(b)), one()),
  lt: (a, b) => v128.and(f32x4.lt(get(a), get(b)), one()),
} satisfies Partial<Record<BinaryOp, VectorOp>>;

export type WasmUnaryOp = keyof typeof unaryKernels;
export type WasmBinaryOp = keyof typeof binaryKernels;

/**
 * How the two operands move along a row: "vv" both step through it, "vs" b is one number for the
 * whole row (broadcast along it), "sv" a is.
 */
export type RowMode = "vv" | "vs" | "sv";
export const rowModes: readonly RowMode[] = ["vv", "vs", "sv"];

/** unary_OP(x, out, n): out[i] = OP(x[i]) for n floats; x and out are byte addresses. */
export function unaryKernel(name: string, fn: VectorFunction): FunctionDef {
  const f = new FunctionBuilder(name);
  const x = f.param(ValType.i32);
  const out = f.param(ValType.i32);
  const n = f.param(ValType.i32);
  const v = f.local(ValType.v128);
  const r = f.local(ValType.v128);
  return f.finish(
    vectorLoop(f, [x, out], n, (tail) => [
      set(v, loadLanes(x, tail)),
      fn(f, v, r),
      storeLanes(out, get(r), tail),
    ]),
  );
}

/**
 * binary_OP_MODE(a, b, out, rows, cols, aRowBytes, bRowBytes): for each of `rows` rows,
 * out[r][j] = a[r][j] OP b[r][j] over `cols` columns; out is contiguous, and a row of a (or b)
 * starts aRowBytes (bRowBytes) after the previous one — 0 repeats the same row (broadcasting).
 * In mode "vs" b[r][j] is b[r][0] for every j, in "sv" a is.
 */
export function binaryKernel(name: string, op: VectorOp, mode: RowMode): FunctionDef {
  const f = new FunctionBuilder(name);
  const a = f.param(ValType.i32);
  const b = f.param(ValType.i32);
  const out = f.param(ValType.i32);
  const rows = f.param(ValType.i32);
  const cols = f.param(ValType.i32);
  const aRow = f.param(ValType.i32);
  const bRow = f.param(ValType.i32);
  const pa = f.local(ValType.i32);
  const pb = f.local(ValType.i32);
  const va = f.local(ValType.v128);
  const vb = f.local(ValType.v128);
  // A broadcast operand is loaded once per row and stays put; a stepping one is read as the loop goes.
  const stepping = [out, ...(mode === "sv" ? [] : [pa]), ...(mode === "vs" ? [] : [pb])];
  return f.finish(
    f.while(
      () => i32.gtS(get(rows), i32.const(0)),
      () => [
        set(pa, get(a)),
        set(pb, get(b)),
        mode === "sv" ? set(va, v128.load32Splat(get(pa))) : [],
        mode === "vs" ? set(vb, v128.load32Splat(get(pb))) : [],
        vectorLoop(f, stepping, cols, (tail) => [
          mode === "sv" ? [] : set(va, loadLanes(pa, tail)),
          mode === "vs" ? [] : set(vb, loadLanes(pb, tail)),
          storeLanes(out, op(va, vb), tail),
        ]),
        set(a, i32.add(get(a), get(aRow))),
        set(b, i32.add(get(b), get(bRow))),
        set(rows, i32.sub(get(rows), i32.const(1))),
      ],
    ),
  );
}

export const unaryName = (op: WasmUnaryOp) => `unary_${op}`;
export const binaryName = (op: WasmBinaryOp, mode: RowMode) => `binary_${op}_${mode}`;

/** Adds every elementwise kernel to the module. */
export function addElementwiseKernels(fns: FunctionList): void {
  for (const [op, fn] of Object.entries(unaryKernels) as [WasmUnaryOp, VectorFunction][]) {
    fns.add(unaryKernel(unaryName(op), fn));
  }
  for (const [op, fn] of Object.entries(binaryKernels) as [WasmBinaryOp, VectorOp][]) {
    for (const mode of rowModes) fns.add(binaryKernel(binaryName(op, mode), fn, mode));
  }
}
