/**
 * A small language for writing WebAssembly function bodies in TypeScript.
 *
 * WebAssembly is a stack machine: an instruction pops its operands and pushes its result. So an
 * expression is just the bytes of its operands followed by its own opcode, and here every
 * instruction is a function that takes its operands as byte arrays and returns the bytes of the
 * whole expression. `f32x4.add(get(acc), f32x4.mul(get(a), get(b)))` reads like the folded text
 * format `(f32x4.add (local.get $acc) (f32x4.mul (local.get $a) (local.get $b)))` and emits
 * exactly its bytes.
 *
 * Branches name their target by nesting depth, which is only known while the enclosing blocks are
 * being built; so `block` and `loop` take a callback, and `br(label)` asks the builder how deep
 * it is at that moment. Opcodes: WebAssembly core spec §5.4, and the SIMD proposal's table.
 */
import { type FunctionDef, f32Bytes, f64Bytes, sleb, uleb, type ValType } from "./encoding.ts";

/** The bytes of an expression or a statement. */
export type Code = readonly number[];
/** Statements: code, or lists of statements nested any way (emitted in order). */
export type Stmts = Code | readonly Stmts[];

export interface Local {
  readonly index: number;
  readonly type: ValType;
}

export interface Label {
  /** How many blocks enclosed the point where this label's block begins. */
  readonly depth: number;
}

/** Join statements into one sequence of bytes. */
export function seq(...parts: Stmts[]): number[] {
  const out: number[] = [];
  const visit = (p: Stmts): void => {
    if (p.length > 0 && typeof p[0] === "number") out.push(...(p as Code));
    else for (const q of p as readonly Stmts[]) visit(q);
  };
  for (const p of parts) visit(p);
  return out;
}

/** Builds one function: declares its parameters and locals and tracks block nesting for branches. */
export class FunctionBuilder {
  private readonly paramTypes: ValType[] = [];
  private readonly localTypes: ValType[] = [];
  private depth = 0;

  constructor(
    readonly name: string,
    private readonly results: readonly ValType[] = [],
  ) {}

  param(type: ValType): Local {
    if (this.localTypes.length > 0) throw new Error("declare parameters before locals");
    return { index: this.paramTypes.push(type) - 1, type };
  }

  local(type: ValType): Local {
    return { index: this.paramTypes.length + this.localTypes.push(type) - 1, type };
  }

  /** `block ... end`: a branch to its label jumps forward, past the end. */
  block(body: (exit: Label) => Stmts): number[] {
    return [0x02, 0x40, ...this.nested(body), 0x0b];
  }

  /** `loop ... end`: a branch to its label jumps back to the start. */
  loop(body: (again: Label) => Stmts): number[] {
    return [0x03, 0x40, ...this.nested(body), 0x0b];
  }

  /** `if ... else ... end` on an i32 condition, with no result. */
  if(condition: Code, then: () => Stmts, otherwise?: () => Stmts): number[] {
    const out = [...condition, 0x04, 0x40, ...this.nested(() => then())];
    if (otherwise) out.push(0x05, ...this.nested(() => otherwise()));
    out.push(0x0b);
    return out;
  }

  br(label: Label): number[] {
    return [0x0c, ...uleb(this.depth - 1 - label.depth)];
  }

  brIf(label: Label, condition: Code): number[] {
    return [...condition, 0x0d, ...uleb(this.depth - 1 - label.depth)];
  }

  /**
   * `while (condition) body`, written as a guard and a loop that tests at the bottom (one branch
   * per iteration instead of two).
   */
  while(condition: () => Code, body: () => Stmts): number[] {
    return this.block((exit) => [
      this.brIf(exit, i32.eqz(condition())),
      this.loop((again) => [body(), this.brIf(again, condition())]),
    ]);
  }

  private nested(body: (label: Label) => Stmts): number[] {
    const label = { depth: this.depth };
    this.depth++;
    try {
      return seq(body(label));
    } finally {
      this.depth--;
    }
  }

  finish(...body: Stmts[]): FunctionDef {
    return {
      name: this.name,
      params: this.paramTypes,
      results: this.results,
      locals: this.localTypes,
      body: seq(...body),
    };
  }
}

const op = (...bytes: number[]) => bytes;
/** An instruction of one operand: the operand's bytes, then the opcode. */
const un =
  (...opcode: number[]) =>
  (a: Code): number[] => [...a, ...opcode];
/** An instruction of two operands. */
const bin =
  (...opcode: number[]) =>
  (a: Code, b: Code): number[] => [...a, ...b, ...opcode];
/** SIMD instructions: the 0xfd prefix, then their number in LEB128. */
const simdUn = (n: number) => un(0xfd, ...uleb(n));
const simdBin = (n: number) => bin(0xfd, ...uleb(n));
/** A memory access's immediate: log2 of the alignment it promises, and a constant byte offset. */
const memarg = (align: number, offset: number) => [...uleb(align), ...uleb(offset)];

export const get = (l: Local): number[] => op(0x20, ...uleb(l.index));
export const set = (l: Local, value: Code): number[] => [...value, 0x21, ...uleb(l.index)];
export const tee = (l: Local, value: Code): number[] => [...value, 0x22, ...uleb(l.index)];
export const drop = (value: Code): number[] => [...value, 0x1a];
export const ret = (value: Code = []): number[] => [...value, 0x0f];
/** `select(a, b, condition)`: a if condition is non-zero, else b (both are evaluated). */
export const select = (a: Code, b: Code, condition: Code): number[] => [...a, ...b, ...condition, 0x1b];

export const i32 = {
  const: (v: number): number[] => op(0x41, ...sleb(v)),
  load: (addr: Code, offset = 0): number[] => [...addr, 0x28, ...memarg(2, offset)],
  store: (addr: Code, value: Code, offset = 0): number[] => [...addr, ...value, 0x36, ...memarg(2, offset)],
  eqz: un(0x45),
  eq: bin(0x46),
  ne: bin(0x47),
  ltS: bin(0x48),
  ltU: bin(0x49),
  gtS: bin(0x4a),
  gtU: bin(0x4b),
  leS: bin(0x4c),
  leU: bin(0x4d),
  geS: bin(0x4e),
  geU: bin(0x4f),
  add: bin(0x6a),
  sub: bin(0x6b),
  mul: bin(0x6c),
  divS: bin(0x6d),
  divU: bin(0x6e),
  and: bin(0x71),
  or: bin(0x72),
  shl: bin(0x74),
  shrS: bin(0x75),
  shrU: bin(0x76),
};

export const f32 = {
  const: (v: number): number[] => op(0x43, ...f32Bytes(v)),
  load: (addr: Code, offset = 0): number[] => [...addr, 0x2a, ...memarg(2, offset)],
  store: (addr: Code, value: Code, offset = 0): number[] => [...addr, ...value, 0x38, ...memarg(2, offset)],
  eq: bin(0x5b),
  ne: bin(0x5c),
  lt: bin(0x5d),
  gt: bin(0x5e),
  ge: bin(0x60),
  abs: un(0x8b),
  neg: un(0x8c),
  sqrt: un(0x91),
  add: bin(0x92),
  sub: bin(0x93),
  mul: bin(0x94),
  div: bin(0x95),
  min: bin(0x96),
  max: bin(0x97),
  /** Round a float64 to the nearest float32. */
  demote: un(0xb6),
  /** The float32 whose bits are this i32's. */
  reinterpret: un(0xbe),
};

export const f64 = {
  const: (v: number): number[] => op(0x44, ...f64Bytes(v)),
  load: (addr: Code, offset = 0): number[] => [...addr, 0x2b, ...memarg(3, offset)],
  store: (addr: Code, value: Code, offset = 0): number[] => [...addr, ...value, 0x39, ...memarg(3, offset)],
  add: bin(0xa0),
  mul: bin(0xa2),
  div: bin(0xa3),
  sqrt: un(0x9f),
  /** Widen a float32 to float64 (exact). */
  promote: un(0xbb),
};

/** Bulk memory: the 0xfc prefix. */
export const memory = {
  /** Copy `bytes` bytes from src to dst (overlap allowed, as memmove). */
  copy: (dst: Code, src: Code, bytes: Code): number[] => [...dst, ...src, ...bytes, 0xfc, ...uleb(10), 0, 0],
};

export const v128 = {
  load: (addr: Code, offset = 0): number[] => [...addr, 0xfd, ...uleb(0x00), ...memarg(4, offset)],
  /** Load one float32 and copy it into all four lanes. */
  load32Splat: (addr: Code, offset = 0): number[] => [...addr, 0xfd, ...uleb(0x09), ...memarg(2, offset)],
  store: (addr: Code, value: Code, offset = 0): number[] => [
    ...addr,
    ...value,
    0xfd,
    ...uleb(0x0b),
    ...memarg(4, offset),
  ],
  /** Four 32-bit lanes given as float32 values. */
  f32x4: (a: number, b = a, c = a, d = a): number[] =>
    op(0xfd, ...uleb(0x0c), ...[a, b, c, d].flatMap(f32Bytes)),
  /** Four 32-bit lanes given as integers (for bit masks). */
  i32x4: (a: number, b = a, c = a, d = a): number[] =>
    op(0xfd, ...uleb(0x0c), ...new Uint8Array(new Int32Array([a, b, c, d]).buffer)),
  /** Bytes of `a` and `b` (lanes 0–15 and 16–31) picked by 16 lane numbers. */
  shuffle: (a: Code, b: Code, lanes: readonly number[]): number[] => [
    ...a,
    ...b,
    0xfd,
    ...uleb(0x0d),
    ...lanes,
  ],
  not: simdUn(0x4d),
  /** 1 if any bit of the vector is set, else 0 (an i32). */
  anyTrue: simdUn(0x53),
  and: simdBin(0x4e),
  /** a AND NOT b */
  andnot: simdBin(0x4f),
  or: simdBin(0x50),
  xor: simdBin(0x51),
  /** Bits of `a` where `mask` is 1, of `b` where it is 0. */
  bitselect: (a: Code, b: Code, mask: Code): number[] => [...a, ...b, ...mask, 0xfd, ...uleb(0x52)],
};

export const f32x4 = {
  splat: simdUn(0x13),
  extractLane: (v: Code, lane: number): number[] => [...v, 0xfd, ...uleb(0x1f), lane],
  /** `v` with lane `lane` replaced by the f32 `x`. */
  replaceLane: (v: Code, lane: number, x: Code): number[] => [...v, ...x, 0xfd, ...uleb(0x20), lane],
  // Comparisons give lanes of all ones (true) or all zeros (false).
  eq: simdBin(0x41),
  ne: simdBin(0x42),
  lt: simdBin(0x43),
  gt: simdBin(0x44),
  le: simdBin(0x45),
  ge: simdBin(0x46),
  /** Round to the nearest integer, ties to even. */
  nearest: simdUn(0x6a),
  abs: simdUn(0xe0),
  neg: simdUn(0xe1),
  sqrt: simdUn(0xe3),
  add: simdBin(0xe4),
  sub: simdBin(0xe5),
  mul: simdBin(0xe6),
  div: simdBin(0xe7),
  /** NaN if either lane is NaN. */
  min: simdBin(0xe8),
  max: simdBin(0xe9),
  /** b < a ? b : a, one instruction on x86 (no NaN or ±0 fix-ups); a NaN in `a` comes through. */
  pmin: simdBin(0xea),
  /** a < b ? b : a; a NaN in `a` comes through. */
  pmax: simdBin(0xeb),
  /** Integer lanes to float. */
  convertI32x4S: simdUn(0xfa),
  /**
   * a·b + c (relaxed SIMD): one fused multiply-add, rounded once, where the hardware has FMA; an
   * engine may also round twice. Only in modules built for engines that validate it.
   */
  relaxedMadd: (a: Code, b: Code, c: Code): number[] => [...a, ...b, ...c, 0xfd, ...uleb(0x105)],
};

export const i32x4 = {
  splat: simdUn(0x11),
  shl: simdBin(0xab),
  shrS: simdBin(0xac),
  shrU: simdBin(0xad),
  add: simdBin(0xae),
  sub: simdBin(0xb1),
  /** Float lanes to integers, truncating, saturating, NaN to 0. */
  truncSatF32x4S: simdUn(0xf8),
};

export const f64x2 = {
  /** Lanes 0 and 1 of an f32x4, widened. */
  promoteLowF32x4: simdUn(0x5f),
  add: simdBin(0xf0),
  extractLane: (v: Code, lane: number): number[] => [...v, 0xfd, ...uleb(0x21), lane],
};

/** The functions of a module being built, so that one can call another by name. */
export class FunctionList {
  readonly defs: FunctionDef[] = [];

  add(def: FunctionDef): void {
    if (this.defs.some((d) => d.name === def.name)) throw new Error(`function ${def.name} is defined twice`);
    this.defs.push(def);
  }

  /** `call`: the arguments, then the callee's index (it must have been added already). */
  call(name: string, ...args: Code[]): number[] {
    const index = this.defs.findIndex((d) => d.name === name);
    if (index < 0) throw new Error(`call: no function ${name} has been added yet`);
    return [...seq(...args), 0x10, ...uleb(index)];
  }
}
