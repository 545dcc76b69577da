/**
 * Making tensors: nested arrays and typed arrays with a shape, converted to the dtype asked for;
 * ones, rand and randn. Bad data (a length that does not fit the shape, negative or fractional
 * dimensions, ragged arrays) is refused with a message naming the creator and the shapes.
 */
import { describe, expect, it } from "vitest";
import { ones, rand, randn, tensor, zeros } from "../../src/autograd/create.ts";
import { Generator } from "../../src/autograd/random.ts";

describe("data and dtype errors", () => {
  it("a typed array whose length does not match the shape", () => {
    expect(() => tensor(new Float32Array(5), [2, 3])).toThrow(
      /^tensor: shape \[2, 3\] needs 6 values but the data has 5/,
    );
    expect(() => tensor(new Float64Array(7), [2, 3])).toThrow(
      /^tensor: shape \[2, 3\] needs 6 values but the data has 7/,
    );
  });

  it("shapes with negative or fractional dimensions, even when their product matches the data", () => {
    expect(() => tensor(new Float32Array(6), [-2, -3])).toThrow(
      /^tensor: shape \[-2, -3\] must hold non-negative integers/,
    );
    expect(() => tensor(new Float64Array(6), [1.5, 4])).toThrow(
      /^tensor: shape \[1\.5, 4\] must hold non-negative integers/,
    );
    expect(() => zeros([2, -1])).toThrow(/^full: shape \[2, -1\]/);
  });

  it("ragged nested arrays", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(
      /^tensor: ragged nested array: expected 2 entries at depth 1 \(shape \[2, 2\]\)/,
    );
    expect(() => tensor([1, [2]])).toThrow(/^tensor: ragged nested array.*depth 1.*\[2\]/);
    expect(() => tensor([[1, 2], 3])).toThrow(/^tensor: ragged nested array.*depth 1.*\[2, 2\]/);
  });
});

describe("tensor() from typed arrays", () => {
  it("needs a shape, and converts to the dtype asked for", () => {
    expect(() => tensor(Float32Array.of(1, 2), {} as never)).toThrow(
      "tensor: a typed array needs a shape, e.g. tensor(data, [2, 3])",
    );
    const wide = tensor(Float32Array.of(0.1, 2), [2], { dtype: "float64" });
    expect(wide.dtype).toBe("float64");
    expect(Array.from(wide.dataSync())).toEqual([Math.fround(0.1), 2]);
    const narrow = tensor(Float64Array.of(0.1, 2), [2], { dtype: "float32" });
    expect(narrow.dtype).toBe("float32");
    expect(Array.from(narrow.dataSync())).toEqual([Math.fround(0.1), 2]);
    // The same array in its own dtype is taken as it is, and requiresGrad is passed on.
    const same = tensor(Float64Array.of(0.1), [1], { requiresGrad: true });
    expect(same.dtype).toBe("float64");
    expect(same.requiresGrad).toBe(true);
    expect(same.item()).toBe(0.1);
  });
});

describe("the methods and creators a model is written with", () => {
  it("ones fills with 1; rand and randn refuse a bad shape under their own names", () => {
    expect(ones([2, 2], { dtype: "float64" }).toArray()).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(ones([1], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(() => rand([2, -1])).toThrow("rand: shape [2, -1] must hold non-negative integers");
    expect(() => randn([1.5])).toThrow("randn: shape [1.5] must hold non-negative integers");
  });
});

describe("rand and randn", () => {
  it("draw reproducibly from the generator they are given, in the requested dtype", () => {
    const a = randn([3, 4], { generator: new Generator(9), dtype: "float64", mean: 2, std: 0.5 });
    const b = randn([3, 4], { generator: new Generator(9), dtype: "float64", mean: 2, std: 0.5 });
    expect(a.dtype).toBe("float64");
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    const g = new Generator(9);
    expect(Array.from(a.dataSync())).toEqual(Array.from({ length: 12 }, () => 2 + 0.5 * g.normal()));
    const u = rand([1000], { generator: new Generator(4), low: -3, high: -1 }).dataSync();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-3);
    expect(Math.max(...u)).toBeLessThan(-1);
  });
});
