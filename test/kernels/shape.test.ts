/**
 * Shape merging (kernels/shape.ts), for the wasm and gpu kernels: dimensions that can be walked as one are merged, and every
 * index is visited with its offsets.
 */
import { describe, expect, it } from "vitest";
import { collapse, forEachIndex } from "../../src/kernels/shape.ts";

describe("shape merging", () => {
  it("merges what can be walked as one, and visits every index with its offsets", () => {
    // [128, 200] + [200]: 128 rows of 200, the bias repeating (row stride 0).
    expect(
      collapse(
        [128, 200],
        [
          [200, 1],
          [0, 1],
        ],
      ),
    ).toEqual([
      { size: 128, strides: [200, 0] },
      { size: 200, strides: [1, 1] },
    ]);
    // Contiguous on both sides: one row.
    expect(
      collapse(
        [2, 3, 4],
        [
          [12, 4, 1],
          [12, 4, 1],
        ],
      ),
    ).toEqual([{ size: 24, strides: [1, 1] }]);
    const seen: [number, number, number][] = [];
    forEachIndex(
      collapse(
        [2, 1, 3],
        [
          [3, 3, 1],
          [0, 0, 1],
        ],
      ),
      2,
      ([x, y], k) => {
        seen.push([x, y, k]);
      },
    );
    expect(seen).toEqual([
      [0, 0, 0],
      [1, 1, 1],
      [2, 2, 2],
      [3, 0, 3],
      [4, 1, 4],
      [5, 2, 5],
    ]);
  });
});
