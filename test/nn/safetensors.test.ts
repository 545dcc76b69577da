/**
 * The safetensors reader refuses every malformed file by what is wrong with it, naming the file; the
 * writer aligns the data to 8 bytes and may save non-finite values unless told not to; the checksum
 * covers the metadata in any key order, but not its own entry; Module's state round-trips through it.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { crc32 } from "../../src/nn/crc32.ts";
import {
  checksumOf,
  decodeSafetensors,
  encodeSafetensors,
  encodeSafetensorsParts,
  MAX_HEADER_BYTES,
  parseSafetensors,
} from "../../src/nn/safetensors.ts";
import { tempDir } from "../fixtures/temp-dir.ts";

const FILE = "runs/x/w.safetensors";

/** A file: the 8-byte little-endian header length (`declared`, else the header's), header, data. */
function file(
  header: string | Uint8Array,
  data: Uint8Array = new Uint8Array(0),
  declared?: number,
): Uint8Array {
  const h = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declared ?? h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const parse = (bytes: Uint8Array) => () => parseSafetensors(bytes, FILE);
const refused = (what: string) => `${FILE}: not a valid safetensors checkpoint: ${what}`;
const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

describe("parseSafetensors refuses", () => {
  it("a file shorter than its 8-byte length field, but reads an 8-byte one as an empty header", () => {
    expect(parse(new Uint8Array(7))).toThrow(refused("only 7 bytes"));
    expect(parse(new Uint8Array(8))).toThrow(refused("header is not JSON ("));
  });

  it("a header length running past the end of the file, even by one byte", () => {
    expect(parse(file("{}", new Uint8Array(0), 100))).toThrow(
      refused("header length 100 runs past the end of the file (10 bytes)"),
    );
    expect(parse(file("{}", new Uint8Array(0), 3))).toThrow(refused("header length 3 runs past"));
    expect(parseSafetensors(file("{}"), FILE).entries).toEqual({});
  });

  it("a header over 100 MB", () => {
    const big = new Uint8Array(100_000_001).fill(0x20);
    expect(parse(file(big))).toThrow(refused("header length 100000001 is over the 100000000 allowed"));
    // Exactly 100 MB is allowed: "{}" padded with spaces.
    const atLimit = big.subarray(0, 100_000_000);
    atLimit.set([0x7b, 0x7d]);
    expect(parseSafetensors(file(atLimit), FILE).entries).toEqual({});
  });

  it("a header that is not UTF-8, even where JSON would accept the replacement character", () => {
    const header = Uint8Array.from([
      ...new TextEncoder().encode('{"__metadata__":{"a":"'),
      0xff,
      0x22,
      0x7d,
      0x7d,
    ]);
    expect(parse(file(header))).toThrow(refused("header is not JSON ("));
  });

  it("metadata that is not an object of strings", () => {
    for (const metadata of ['{"a":1}', "5", '["a"]', '{"a":"b","c":null}'])
      expect(parse(file(`{"__metadata__":${metadata}}`))).toThrow(
        refused("__metadata__ must be an object of strings"),
      );
    expect(parseSafetensors(file('{"__metadata__":{"a":"b"}}'), FILE).metadata).toEqual({ a: "b" });
  });

  it("a tensor entry that is not an object, or whose shape or offsets are not counts", () => {
    expect(parse(file('{"w":5}'))).toThrow(refused("tensor w is a number, not an object"));
    const entry = (shape: string, offsets: string) =>
      file(`{"w":{"dtype":"F32","shape":${shape},"data_offsets":${offsets}}}`, f32([1, 2]));
    expect(parse(entry("[2,-1]", "[0,8]"))).toThrow(
      refused("tensor w: shape [2,-1] is not a list of non-negative integers"),
    );
    expect(parse(entry("[-1,2]", "[0,8]"))).toThrow(refused("tensor w: shape [-1,2] is not"));
    expect(parse(entry("[2]", "[0,8,8]"))).toThrow(
      refused("tensor w: data_offsets [0,8,8] is not two non-negative integers"),
    );
    expect(parse(entry("[2]", "[0]"))).toThrow(refused("tensor w: data_offsets [0] is not two"));
    expect(parse(entry("[2]", "[8,0]"))).toThrow(
      refused("tensor w: shape [2] of F32 and offsets [8, 0] do not fit"),
    );
    expect(parse(entry("[0]", "[8,8]"))).toThrow(
      refused("tensor w starts at byte 8 of the data but the tensors before it end at 0"),
    );
    expect(Array.from(parseSafetensors(entry("[2]", "[0,8]"), FILE).entries.w.data)).toEqual([1, 2]);
  });

  it("data the tensors do not cover, and reads tensors listed in any order", () => {
    const header = (aBegin: number, bBegin: number) =>
      `{"b":{"dtype":"F32","shape":[1],"data_offsets":[${bBegin},${bBegin + 4}]},"a":{"dtype":"F32","shape":[1],"data_offsets":[${aBegin},${aBegin + 4}]}}`;
    // b is listed first but stored second.
    const { entries } = parseSafetensors(file(header(0, 4), f32([10, 20])), FILE);
    expect([entries.a.data[0], entries.b.data[0]]).toEqual([10, 20]);
    expect(Object.keys(entries)).toEqual(["a", "b"]);
    expect(parse(file(header(0, 4), f32([10, 20, 30])))).toThrow(
      refused("the tensors cover 8 bytes of data but the file holds 12"),
    );
    // An empty tensor at the end is still tiled, whatever its place in the header.
    const withEmpty = `{"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`;
    expect(Object.keys(parseSafetensors(file(withEmpty, f32([1])), FILE).entries)).toEqual(["a", "e"]);
    // An empty tensor where another begins is tiled before it, whichever the header lists first.
    const sharedStart = `{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`;
    expect(Object.keys(parseSafetensors(file(sharedStart, f32([1, 2])), FILE).entries)).toEqual([
      "b",
      "e",
      "a",
    ]);
  });
});

describe("encodeSafetensors", () => {
  it("pads the header with spaces so the data starts at a multiple of 8 bytes, for any header length", async () => {
    for (let n = 1; n <= 9; n++) {
      const bytes = await encodeSafetensors({ ["w".repeat(n)]: tensor([1, 2], { dtype: "float64" }) });
      const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect((8 + headerLength) % 8).toBe(0);
      expect(headerLength).toBeLessThan(
        JSON.stringify(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)))).length + 8,
      );
      expect(bytes.length).toBe(8 + headerLength + 16);
      expect(Array.from(parseSafetensors(bytes, FILE).entries["w".repeat(n)].data)).toEqual([1, 2]);
    }
  });

  it("saves non-finite values unless finiteOnly is set", async () => {
    const t = tensor([1, Number.NaN, Number.POSITIVE_INFINITY]);
    const back = parseSafetensors(await encodeSafetensors({ t }), FILE).entries.t.data;
    expect(Array.from(back)).toEqual([1, Number.NaN, Number.POSITIVE_INFINITY]);
    await expect(encodeSafetensors({ t }, {}, { finiteOnly: true })).rejects.toThrow(
      "safetensors: tensor t holds NaN at index 1; only finite values may be saved",
    );
  });
});

describe("encodeSafetensors refuses what its reader would refuse, naming it", () => {
  const t = () => tensor([1, 2]);

  it("a tensor called __metadata__ (the reader takes it for the metadata)", async () => {
    await expect(encodeSafetensors({ __metadata__: t() })).rejects.toThrow(
      'safetensors: a tensor cannot be called "__metadata__", the format\'s metadata entry',
    );
  });

  it("a metadata key of the checksum's own, with or without a checksum asked for", async () => {
    for (const key of ["crc32", "file_crc32"]) {
      for (const checksum of [false, true]) {
        await expect(encodeSafetensors({ w: t() }, { [key]: "00000000" }, { checksum }), key).rejects.toThrow(
          `safetensors: metadata key "${key}" is the checksum's own; choose another key`,
        );
      }
    }
  });

  it("a metadata value that is not a string (JavaScript callers have no types to stop them)", async () => {
    for (const value of [5, null, { a: 1 }, undefined]) {
      await expect(
        encodeSafetensors({ w: t() }, { n: value } as unknown as Record<string, string>),
        String(value),
      ).rejects.toThrow(
        /^safetensors: metadata "n" is (a number|null|a object|a undefined); every value must be a string$/,
      );
    }
  });

  it("a name or value UTF-8 cannot carry (a lone surrogate would come back as U+FFFD, another name)", async () => {
    await expect(encodeSafetensors({ "w\uD800": t() })).rejects.toThrow(
      'safetensors: tensor name "w\\ud800" holds a lone UTF-16 surrogate, which UTF-8 cannot carry',
    );
    await expect(encodeSafetensors({ w: t() }, { note: "x\uDC00" })).rejects.toThrow(
      'safetensors: metadata "note" holds a lone UTF-16 surrogate',
    );
    // A surrogate pair is one character, carried whole.
    const bytes = await encodeSafetensors({ "w\uD83D\uDE00": t() }, { note: "\uD83D\uDE00" });
    const back = parseSafetensors(bytes, FILE);
    expect(Object.keys(back.entries)).toEqual(["w\uD83D\uDE00"]);
    expect(back.metadata.note).toBe("\uD83D\uDE00");
  });

  it("a header over the reader's 100 MB, and a value that is not a tensor", async () => {
    await expect(encodeSafetensors({ w: t() }, { big: "x".repeat(MAX_HEADER_BYTES) })).rejects.toThrow(
      /^safetensors: the header would be \d+ bytes, over the 100000000 a reader accepts$/,
    );
    await expect(
      encodeSafetensors({ w: [1, 2] } as unknown as Record<string, ReturnType<typeof tensor>>),
    ).rejects.toThrow("safetensors: w is an array, not a Tensor");
  });
});

describe("the checksum (file_crc32)", () => {
  it("covers every byte of the file, the length field, the header's padding and its layout, but not its own value", async () => {
    const parts = await encodeSafetensorsParts(
      { a: tensor([1, 2]), b: tensor([3, 4]) },
      { note: "n" },
      { checksum: true },
    );
    const bytes = Uint8Array.from(Buffer.concat(parts));
    expect(parseSafetensors(bytes, FILE).metadata.note).toBe("n");
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    const value = 8 + text.indexOf('"file_crc32":"') + 14;
    for (let at = 0; at < bytes.length; at++) {
      const flipped = Uint8Array.from(bytes);
      flipped[at] ^= 0x01;
      // A flip inside the value itself is a different stored checksum: refused as well. Only a
      // flip in the key's own name reads (a file without a checksum, which a checkpoint refuses).
      let read: ReturnType<typeof parseSafetensors> | undefined;
      try {
        read = parseSafetensors(flipped, FILE);
      } catch (e) {
        expect((e as Error).message, `byte ${at}`).toMatch(/^runs\/x\/w\.safetensors: /);
      }
      if (read !== undefined) {
        expect(read.metadata.file_crc32, `byte ${at}`).toBeUndefined();
        expect(at).toBeGreaterThanOrEqual(value - 14);
      }
    }
    // The value is the CRC-32 of everything else: the same bytes with the value left out.
    const stored = text.slice(value - 8, value);
    expect(crc32([bytes.subarray(0, value), bytes.subarray(value + 8)])).toBe(stored);
    // Two same-shaped tensors' offsets swapped: a valid layout, the same metadata and data.
    const swapped = text
      .replace('"data_offsets":[0,8]', "#")
      .replace('"data_offsets":[8,16]', '"data_offsets":[0,8]')
      .replace("#", '"data_offsets":[8,16]');
    expect(swapped).not.toBe(text);
    const edited = Uint8Array.from(bytes);
    edited.set(new TextEncoder().encode(swapped), 8);
    expect(() => parseSafetensors(edited, FILE)).toThrow(refused(`checksum`));
  });
});

describe("checksumOf", () => {
  it("does not depend on the metadata's key order or on its own crc32 entry, but on every other entry", () => {
    const data = [f32([1, 2])];
    const sum = checksumOf({ a: "1", b: "2", c: "3" }, data);
    expect(checksumOf({ c: "3", a: "1", b: "2" }, data)).toBe(sum);
    const keys = ["a", "b", "c", "d", "e", "f", "g"];
    const forward = Object.fromEntries(keys.map((k) => [k, k.toUpperCase()]));
    const backward = Object.fromEntries([...keys].reverse().map((k) => [k, k.toUpperCase()]));
    expect(checksumOf(backward, data)).toBe(checksumOf(forward, data));
    expect(checksumOf({ b: "2", c: "3", a: "1", crc32: "whatever" }, data)).toBe(sum);
    expect(checksumOf({ a: "1", b: "2", c: "4" }, data)).not.toBe(sum);
    expect(checksumOf({ a: "1", b: "2" }, data)).not.toBe(sum);
    // Sorted by key: "b" before "c" whatever order they are given in.
    const { a: _a, ...rest } = { a: "1", b: "x", c: "y" };
    expect(checksumOf({ c: "y", b: "x" }, data)).toBe(checksumOf(rest, data));
    expect(checksumOf({ b: "x", c: "y" }, data)).toBe(
      crc32([new TextEncoder().encode("b\0x\0c\0y\0"), ...data]),
    );
  });
});

describe("safetensors", () => {
  it("round-trips float32 and float64 tensors and metadata, with an 8-byte aligned header", async () => {
    const tensors = {
      a: tensor([
        [1.5, -2],
        [3, 4],
      ]),
      b: tensor(Float64Array.from([Math.PI]), [1]),
    };
    const bytes = await encodeSafetensors(tensors, { note: "hello" });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    expect(header.a).toEqual({ dtype: "F32", shape: [2, 2], data_offsets: [0, 16] });
    expect(header.b).toEqual({ dtype: "F64", shape: [1], data_offsets: [16, 24] });
    const back = decodeSafetensors(bytes, "x.safetensors");
    expect(back.metadata).toEqual({ note: "hello" });
    expect(back.tensors.a.toArray()).toEqual([
      [1.5, -2],
      [3, 4],
    ]);
    expect(back.tensors.b.dtype).toBe("float64");
    expect(back.tensors.b.item()).toBe(Math.PI);
  });

  it("reports a truncated or corrupt file by name", async () => {
    const dir = tempDir("elbo-st-");
    const file = join(dir, "w.safetensors");
    writeFileSync(file, await encodeSafetensors({ a: tensor([1, 2, 3]) }));
    const bytes = readFileSync(file);
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), file)).toThrow(
      /w\.safetensors.*tensor a/,
    );
    expect(() => decodeSafetensors(bytes.subarray(0, 5), file)).toThrow(/w\.safetensors.*only 5 bytes/);
    const garbled = Uint8Array.from(bytes);
    garbled[9] = 0x7b; // "{" inside the JSON
    garbled[10] = 0x7b;
    expect(() => decodeSafetensors(garbled, file)).toThrow(/w\.safetensors.*not JSON/);
  });
});
