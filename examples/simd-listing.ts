/**
 * A listing of a WebAssembly function body in the text format's names, one instruction a line,
 * indented by block depth. It knows only the instructions that the elementwise kernels use and
 * throws on any other, so it never prints a wrong name.
 */
import type { FunctionDef } from "../src/kernels/wasm/encoding.ts";

/** Opcodes with no immediate, or with a memory argument (alignment, offset), or a local index. */
const plain: Record<number, string> = {
  11: "end",
  69: "i32.eqz",
  73: "i32.lt_u",
  106: "i32.add",
  113: "i32.and",
  116: "i32.shl",
};
const withMemarg: Record<number, string> = { 42: "f32.load", 56: "f32.store" };
const withLocal: Record<number, string> = { 32: "local.get", 33: "local.set", 34: "local.tee" };
const withLabel: Record<number, string> = { 12: "br", 13: "br_if" };
/** After the 0xfd prefix. */
const simd: Record<number, string> = {
  19: "f32x4.splat",
  235: "f32x4.pmax",
  228: "f32x4.add",
  230: "f32x4.mul",
};
const simdMemarg: Record<number, string> = { 0: "v128.load", 11: "v128.store" };

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
    } else if (opcode in plain) emit(plain[opcode]);
    else if (opcode in withLocal) emit(`${withLocal[opcode]} ${uleb()}`);
    else if (opcode in withLabel) emit(`${withLabel[opcode]} ${uleb()}`);
    else if (opcode in withMemarg) emit(`${withMemarg[opcode]} align=${2 ** uleb()} offset=${uleb()}`);
    else if (opcode === 0x41) emit(`i32.const ${sleb()}`);
    else if (opcode === 0xfd) {
      const sub = uleb();
      if (sub in simdMemarg) emit(`${simdMemarg[sub]} align=${2 ** uleb()} offset=${uleb()}`);
      else if (sub === 0x0c) {
        const lanes = new Float32Array(new Uint8Array(bytes.slice(at, at + 16)).buffer);
        at += 16;
        emit(`v128.const f32x4 ${Array.from(lanes).join(" ")}`);
      } else if (sub === 0x1f) emit(`f32x4.extract_lane ${bytes[at++]}`);
      else if (sub in simd) emit(simd[sub]);
      else throw new Error(`listing: SIMD opcode 0xfd ${sub.toString(16)} is not in this listing's table`);
    } else throw new Error(`listing: opcode 0x${opcode.toString(16)} is not in this listing's table`);
  }
  return lines;
}
