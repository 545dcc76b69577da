/**
 * Fuzzing the IDX reader with damaged files: truncations, bit flips and dimension edits end in a
 * clear error (a plain Error naming the file) or the file's own values. Memory stays bounded: a
 * damaged size field must not make the reader allocate what the file does not hold.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { datasetFromIdx, parseIdx } from "../../src/vae/dataset.ts";
import { bitFlips, expectClearError } from "../fixtures/damage.ts";
import { idxFile } from "../fixtures/idx.ts";

describe("fuzzing the IDX reader", () => {
  const IMAGES = "data/train-images-idx3-ubyte";
  const LABELS = "data/train-labels-idx1-ubyte";

  const images = idxFile(
    [3, 2, 3],
    Array.from({ length: 18 }, (_, i) => i * 14),
  );
  const labels = idxFile([3], [7, 0, 9]);

  /** What a correct reader must return for these bytes, decoded independently; null if they are not a valid file. */
  function reference(bytes: Uint8Array): { dims: number[]; payload: Uint8Array } | null {
    if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 8) return null;
    const rank = bytes[3];
    if (bytes.length < 4 + 4 * rank) return null;
    const dims = Array.from({ length: rank }, (_, d) =>
      new DataView(bytes.buffer, bytes.byteOffset).getUint32(4 + 4 * d, false),
    );
    const payload = bytes.subarray(4 + 4 * rank);
    return dims.reduce((a, b) => a * b, 1) === payload.length ? { dims, payload } : null;
  }

  it("truncations, bit flips and dimension edits end in a clear error or the file's own values", () => {
    const damage = fc.oneof(
      fc.nat(images.length - 1).map((n) => images.subarray(0, n)),
      bitFlips(images, 3),
      fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(0xffffffff)).map(([d, value]) => {
        const bytes = Uint8Array.from(images);
        if (d === 3)
          bytes[3] = value & 0xff; // the rank
        else new DataView(bytes.buffer).setUint32(4 + 4 * d, value, false);
        return bytes;
      }),
    );
    fc.assert(
      fc.property(damage, (bytes) => {
        const expected = reference(bytes);
        let parsed: ReturnType<typeof parseIdx>;
        try {
          parsed = parseIdx(bytes, IMAGES);
        } catch (e) {
          expectClearError(e, IMAGES);
          expect(expected).toBeNull();
          return;
        }
        expect(expected).not.toBeNull();
        expect(parsed.dims).toEqual(expected?.dims);
        expect(parsed.data).toEqual(expected?.payload);
        // As a data set: a clear error (rank, count, empty) or the pixels scaled by 1/255.
        let ds: ReturnType<typeof datasetFromIdx>;
        try {
          ds = datasetFromIdx(parsed, parseIdx(labels, LABELS), { images: IMAGES, labels: LABELS });
        } catch (e) {
          expect(e).toBeInstanceOf(Error);
          expect((e as Error).constructor).toBe(Error);
          expect((e as Error).message).toMatch(/^data\/train-(images|labels)-idx\d-ubyte: /);
          return;
        }
        expect(ds.images).toEqual(Float32Array.from(parsed.data, (v) => v / 255));
        expect([ds.count, ds.rows, ds.cols]).toEqual(parsed.dims);
      }),
      { numRuns: 500 },
    );
  });
});
