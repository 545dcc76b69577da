/**
 * Where printing starts to elide: above 1,000 elements (not at), and then only along axes longer
 * than twice the 3 edge items shown at each end, as NumPy's threshold and edgeitems do.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";

const counting = (shape: number[]) =>
  tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i),
    shape,
  );

describe("printing elides", () => {
  it("a tensor of exactly 1,000 elements in full, one of 1,001 with its middle left out", () => {
    const full = String(counting([1000]));
    expect(full).not.toContain("...");
    expect(full).toContain(", 500, ");
    expect(String(counting([1001]))).toMatch(/^tensor\(\[0, 1, 2, \.\.\., 998, 999, 1000\], shape=\[1001\]/);
  });

  it("in a large tensor, an axis of 6 shows all its entries and an axis of 7 is cut", () => {
    const six = String(counting([6, 200])).split("\n");
    expect(six).toHaveLength(6);
    expect(six.some((line) => line.trim() === "...,")).toBe(false);
    expect(six[5]).toMatch(/^ {8}\[1000, 1001, 1002, \.\.\., 1197, 1198, 1199\]\]/);
    const seven = String(counting([7, 200])).split("\n");
    expect(seven).toHaveLength(7);
    expect(seven[3].trim()).toBe("...,");
    // Three rows each side of the cut: rows 0..2 and 4..6.
    expect(seven[4]).toMatch(/^ {8}\[800, 801, 802, \.\.\./);
  });
});
