/**
 * The WebAssembly binary format, as much of it as our kernels need: numbers in LEB128, value
 * types, and a module made of functions over one imported memory.
 *
 * A module is a magic number, a version, then numbered sections, each a byte count and a vector
 * of entries. We emit five of them: types (function signatures), imports (the memory), functions
 * (which signature each body has), exports (names for JavaScript), and code (the bodies).
 * Reference: the WebAssembly core specification, chapter 5 "Binary Format".
 */

/** Value types, by their one-byte codes. */
export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Unsigned LEB128: seven bits per byte, low bits first, the high bit set on every byte but the last. */
export function uleb(value: number): number[] {
  if (!Number.isInteger(value) || value < 0) throw new Error(`uleb: ${value} is not a non-negative integer`);
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer: like uleb, but stops once the rest is all sign bits. */
export function sleb(value: number): number[] {
  if (!Number.isInteger(value)) throw new Error(`sleb: ${value} is not an integer`);
  value |= 0;
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const signBitSet = (byte & 0x40) !== 0;
    if ((value === 0 && !signBitSet) || (value === -1 && signBitSet)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** Little-endian bytes of a 32-bit float. */
export function f32Bytes(value: number): number[] {
  return [...new Uint8Array(new Float32Array([value]).buffer)];
}

/** Little-endian bytes of a 64-bit float. */
export function f64Bytes(value: number): number[] {
  return [...new Uint8Array(new Float64Array([value]).buffer)];
}

function utf8(name: string): number[] {
  const bytes = [...new TextEncoder().encode(name)];
  return [...uleb(bytes.length), ...bytes];
}

/** A vector: its length, then its items. */
function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A subsection of a custom section: its id, its size, its bytes. */
function subsection(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

/** One function of a module: its signature, extra locals, body, and the name it is exported as. */
export interface FunctionDef {
  name: string;
  params: readonly ValType[];
  results: readonly ValType[];
  /** Locals beyond the parameters, in index order. */
  locals: readonly ValType[];
  /** The instructions, without the final `end`. */
  body: readonly number[];
}

export interface MemoryImport {
  /** Pages of 64 KiB at instantiation. */
  initialPages: number;
  maximumPages: number;
  /** Shared between threads (needs a maximum, and SharedArrayBuffer in the host). */
  shared: boolean;
}

/** The bytes of a module that imports its memory as env.memory and exports `functions` by name. */
export function encodeModule(functions: readonly FunctionDef[], memory: MemoryImport): Uint8Array {
  const signatures: string[] = [];
  const typeEntries: number[][] = [];
  const typeOf = functions.map((f) => {
    const key = `${f.params.join(",")}->${f.results.join(",")}`;
    let index = signatures.indexOf(key);
    if (index < 0) {
      index = signatures.push(key) - 1;
      typeEntries.push([0x60, ...vector(f.params.map((t) => [t])), ...vector(f.results.map((t) => [t]))]);
    }
    return index;
  });

  // Limits: flag bit 0 = has a maximum, bit 1 = shared.
  const limits = [memory.shared ? 0x03 : 0x01, ...uleb(memory.initialPages), ...uleb(memory.maximumPages)];
  const memoryImport = [...utf8("env"), ...utf8("memory"), 0x02, ...limits];

  const exports = functions.map((f, i) => [...utf8(f.name), 0x00, ...uleb(i)]);
  const bodies = functions.map((f) => {
    // Locals are declared as runs of the same type: (count, type) pairs.
    const runs: number[][] = [];
    for (let i = 0; i < f.locals.length; ) {
      let j = i;
      while (j < f.locals.length && f.locals[j] === f.locals[i]) j++;
      runs.push([...uleb(j - i), f.locals[i]]);
      i = j;
    }
    const code = [...vector(runs), ...f.body, 0x0b];
    return [...uleb(code.length), ...code];
  });

  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d], // "\0asm"
    ...[0x01, 0x00, 0x00, 0x00], // version 1
    ...section(1, vector(typeEntries)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(typeOf.map((t) => uleb(t)))),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
    // The "name" custom section, function names subsection: profilers and stack traces then show
    // matmul_block rather than wasm-function[4].
    ...section(0, [
      ...utf8("name"),
      ...subsection(1, vector(functions.map((f, i) => [...uleb(i), ...utf8(f.name)]))),
    ]),
  ]);
}
