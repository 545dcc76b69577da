/**
 * A listing of a WebAssembly function body in the text format's names, one instruction a line,
 * indented by block depth. It knows only the instructions that the elementwise kernels use and
 * throws on any other, so it never prints a wrong name.
 */
import type { FunctionDef } from "../src/kernels/wasm/encoding.ts";

/** Opcodes with no immediate, or with a memory argument (alignment, offset), or a local index. */
const plain = new Map([
  [0x0b, "end"],
  [0x45, "i32.eqz"],
  [0x49, "i32.lt_u"],
  [0x6a, "i32.add"],
  [0x71, "i32.and"],
  [0x74, "i32.shl"],
]);
const withMemarg = new Map([
  [0x2a, "f32.load"],
  [0x38, "f32.store"],
]);
const withLocal = new Map([
  [0x20, "local.get"],
  [0x21, "local.set"],
  [0x22, "local.tee"],
]);
const withLabel = new Map([
  [0x0c, "br"],
  [0x0d, "br_if"],
]);
/** After the 0xfd prefix. */
const simd = new Map([
  [0x13, "f32x4.splat"],
  [0xe4, "f32x4.add"],
  [0xe6, "f32x4.mul"],
  [0xe8, "f32x4.min"],
  [0xe9, "f32x4.max"],
  [0xea, "f32x4.pmin"],
  [0xeb, "f32x4.pmax"],
]);
const simdMemarg = new Map([
  [0x00, "v128.load"],
  [0x0b, "v128.store"],
]);

export function listing(def: FunctionDef): string[] {
  const bytes = def.body;
  let at = 0;
  const uleb = (): number => {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = bytes[at++];
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return result;
  };
  const sleb = (): number => {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = bytes[at++];
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return shift < 32 && b & 0x40 ? result | (-1 << shift) : result;
  };
  const lines: string[] = [];
  let depth = 0;
  const emit = (s: string) => lines.push(`${"  ".repeat(depth)}${s}`);
  while (at < bytes.length) {
    const opcode = bytes[at++];
    if (opcode === 0x02 || opcode === 0x03) {
      at++; // block type: 0x40, no result
      emit(opcode === 0x02 ? "block" : "loop");
      depth++;
    } else if (opcode === 0x0b) {
      depth--;
      emit("end");
    } else if (plain.has(opcode)) emit(plain.get(opcode)!);
    else if (withLocal.has(opcode)) emit(`${withLocal.get(opcode)} ${uleb()}`);
    else if (withLabel.has(opcode)) emit(`${withLabel.get(opcode)} ${uleb()}`);
    else if (withMemarg.has(opcode)) emit(`${withMemarg.get(opcode)} align=${2 ** uleb()} offset=${uleb()}`);
    else if (opcode === 0x41) emit(`i32.const ${sleb()}`);
    else if (opcode === 0xfd) {
      const sub = uleb();
      if (simdMemarg.has(sub)) emit(`${simdMemarg.get(sub)} align=${2 ** uleb()} offset=${uleb()}`);
      else if (sub === 0x0c) {
        const lanes = new Float32Array(new Uint8Array(bytes.slice(at, at + 16)).buffer);
        at += 16;
        emit(`v128.const f32x4 ${Array.from(lanes).join(" ")}`);
      } else if (sub === 0x1f) emit(`f32x4.extract_lane ${bytes[at++]}`);
      else if (simd.has(sub)) emit(simd.get(sub)!);
      else throw new Error(`listing: SIMD opcode 0xfd ${sub.toString(16)} is not in this listing's table`);
    } else throw new Error(`listing: opcode 0x${opcode.toString(16)} is not in this listing's table`);
  }
  return lines;
}
