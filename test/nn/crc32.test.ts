/** crc32, the checksum safetensors files carry: the standard CRC-32, as zlib computes it. */
import { crc32 as zlibCrc32 } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32 } from "../../src/nn/crc32.ts";

describe("crc32", () => {
  it("is the standard CRC-32: 123456789 gives cbf43926, nothing gives 00000000", () => {
    expect(crc32([new TextEncoder().encode("123456789")])).toBe("cbf43926");
    expect(crc32([])).toBe("00000000");
  });

  it("equals zlib's over random bytes in random pieces, as 8 hex digits with leading zeros", () => {
    fc.assert(
      // Lengths on both sides of the 8-byte steps, in pieces that split them anywhere.
      fc.property(fc.array(fc.uint8Array({ maxLength: 70 }), { maxLength: 4 }), (pieces) => {
        const whole = Buffer.concat(pieces);
        expect(crc32(pieces)).toBe(zlibCrc32(whole).toString(16).padStart(8, "0"));
      }),
      { numRuns: 200 },
    );
    // A short input whose CRC starts with a 0 digit: the padding shows.
    let i = 0;
    while (zlibCrc32(String(i)) >= 0x10000000) i++;
    expect(crc32([new TextEncoder().encode(String(i))])).toMatch(/^0[0-9a-f]{7}$/);
  });
});
