/** The WebAssembly binary encoding the wasm backend writes its module with: LEB128 numbers. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sleb, uleb } from "../../../src/kernels/wasm/encoding.ts";

function decodeUleb(bytes: number[]): number {
  let value = 0;
  bytes.forEach((b, i) => {
    value += (b & 0x7f) * 2 ** (7 * i);
  });
  return value;
}

describe("LEB128", () => {
  it("matches the specification's examples", () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-128)).toEqual([0x80, 0x7f]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it("round-trips every unsigned 32-bit number", () => {
    fc.assert(fc.property(fc.nat({ max: 2 ** 32 - 1 }), (n) => decodeUleb(uleb(n)) === n));
  });

  it("refuses what it cannot encode", () => {
    expect(() => uleb(-1)).toThrow(/non-negative/);
    expect(() => sleb(0.5)).toThrow(/integer/);
  });
});
