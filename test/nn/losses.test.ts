import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { binaryCrossEntropy, binaryCrossEntropyWithLogits } from "../../src/nn/losses.ts";
import { valuesArb } from "../fixtures/arbitraries.ts";
import { expectGradOk } from "../fixtures/assertions.ts";
import { f64 } from "../fixtures/tensors.ts";

/** −[t ln p + (1−t) ln(1−p)] computed directly in float64. */
function referenceBce(p: number[], t: number[]): number {
  return p.reduce((s, pi, i) => s - (t[i] * Math.log(pi) + (1 - t[i]) * Math.log(1 - pi)), 0);
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe("binaryCrossEntropy (on probabilities)", () => {
  it("equals the formula, with 'sum' and 'mean' reductions", () => {
    fc.assert(
      fc.property(valuesArb(6, 0.02, 0.98), valuesArb(6, 0, 1), (p, t) => {
        const expected = referenceBce(p, t);
        expect(binaryCrossEntropy(f64(p, [2, 3]), f64(t, [2, 3]), "sum").item()).toBeCloseTo(expected, 10);
        expect(binaryCrossEntropy(f64(p, [2, 3]), f64(t, [2, 3]), "mean").item()).toBeCloseTo(
          expected / 6,
          10,
        );
        expect(binaryCrossEntropy(f64(p, [2, 3]), f64(t, [2, 3]), "none").shape).toEqual([2, 3]);
        expect(binaryCrossEntropy(f64(p, [2, 3]), f64(t, [2, 3]), "none").op).toBe("binaryCrossEntropy");
      }),
      { numRuns: 30 },
    );
  });

  it("gradient with respect to the probabilities matches finite differences (property)", () => {
    fc.assert(
      fc.property(valuesArb(5, 0.05, 0.95), valuesArb(5, 0, 1), (p, t) => {
        const target = f64(t, [5]);
        expectGradOk((q) => binaryCrossEntropy(q, target, "sum"), [f64(p, [5])]);
      }),
      { numRuns: 30 },
    );
  });

  it("saturated probabilities 0 and 1 give finite losses (logs clamped at −100, as PyTorch) and finite gradients", () => {
    const p = tensor([0, 1, 0, 1], { requiresGrad: true });
    const t = tensor([1, 0, 0, 1]);
    const loss = binaryCrossEntropy(p, t, "sum");
    expect(loss.item()).toBeCloseTo(200, 4); // two wrong certainties at 100 each, two right ones at 0
    loss.backward();
    for (const g of p.grad!.dataSync()) expect(Number.isFinite(g)).toBe(true);
  });

  it("rejects targets of another shape, naming both shapes", () => {
    expect(() => binaryCrossEntropy(tensor([0.5, 0.5]), tensor([1, 0, 1]))).toThrow(
      /binaryCrossEntropy.*\[2\].*\[3\]/,
    );
  });
});

describe("binaryCrossEntropyWithLogits", () => {
  it("equals BCE of sigmoid(logits) where that is representable", () => {
    fc.assert(
      fc.property(valuesArb(6, -8, 8), valuesArb(6, 0, 1), (l, t) => {
        const expected = referenceBce(l.map(sigmoid), t);
        expect(binaryCrossEntropyWithLogits(f64(l, [6]), f64(t, [6]), "sum").item()).toBeCloseTo(expected, 8);
      }),
      { numRuns: 30 },
    );
  });

  it("gradient matches finite differences and equals sigmoid(l) − t (property)", () => {
    fc.assert(
      fc.property(valuesArb(6, -6, 6), valuesArb(6, 0, 1), (l, t) => {
        const target = f64(t, [2, 3]);
        expectGradOk((x) => binaryCrossEntropyWithLogits(x, target, "sum"), [f64(l, [2, 3])]);
        const logits = f64(l, [2, 3]);
        logits.requiresGrad = true;
        binaryCrossEntropyWithLogits(logits, target, "sum").backward();
        const g = logits.grad!.dataSync();
        l.forEach((li, i) => {
          expect(g[i]).toBeCloseTo(sigmoid(li) - t[i], 10);
        });
      }),
      { numRuns: 30 },
    );
  });

  it("huge logits give finite losses and gradients (no log 0), float32 included", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const logits = tensor([1e4, -1e4, 1e4, -1e4, 0], { dtype, requiresGrad: true });
      const t = tensor([1, 0, 0, 1, 1], { dtype });
      const loss = binaryCrossEntropyWithLogits(logits, t, "sum");
      // Confident and right costs 0; confident and wrong costs |logit| = 1e4 each; logit 0 costs ln 2.
      expect(loss.item()).toBeCloseTo(2e4 + Math.LN2, 2);
      loss.backward();
      expect(Array.from(logits.grad!.dataSync())).toEqual([0, 0, 1, -1, -0.5]);
    }
  });
});

const f64Leaf = (v: number[], shape: number[] = [v.length]) =>
  tensor(Float64Array.from(v), shape, { requiresGrad: true });

describe("binary cross-entropy", () => {
  const p = [0.2, 0.9, 0.5, 0.01];
  const t = [0, 1, 0.3, 1];
  const exact = p.map((pi, i) => -(t[i] * Math.log(pi) + (1 - t[i]) * Math.log(1 - pi)));
  const total = exact.reduce((s, v) => s + v, 0);

  it("on probabilities and on logits: the mean by default, or the sum", () => {
    const logits = p.map((pi) => Math.log(pi / (1 - pi)));
    expect(binaryCrossEntropy(f64Leaf(p), f64Leaf(t)).item()).toBeCloseTo(total / 4, 12);
    expect(binaryCrossEntropy(f64Leaf(p), f64Leaf(t), "sum").item()).toBeCloseTo(total, 12);
    expect(binaryCrossEntropyWithLogits(f64Leaf(logits), f64Leaf(t)).item()).toBeCloseTo(total / 4, 12);
    expect(binaryCrossEntropyWithLogits(f64Leaf(logits), f64Leaf(t), "sum").item()).toBeCloseTo(total, 12);
  });

  it("names the function whose targets do not match", () => {
    expect(() => binaryCrossEntropyWithLogits(f64Leaf([0, 1]), f64Leaf([1]))).toThrow(
      /binaryCrossEntropyWithLogits/,
    );
    expect(() => binaryCrossEntropy(f64Leaf([0.5, 0.5]), f64Leaf([1]))).toThrow(/binaryCrossEntropy\b/);
  });
});
