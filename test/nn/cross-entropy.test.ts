/**
 * crossEntropy: against the definition computed in plain JS, for class indices and for target
 * probabilities, with every reduction and with extra (spatial) dimensions; first and second
 * derivatives against finite differences; saturated logits stay finite; errors name the loss.
 * Last, what it is for: a softmax classifier on a few dozen real MNIST digits learns with Adam.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { releaseGraph } from "../../src/autograd/engine.ts";
import { concat } from "../../src/autograd/ops/indexing.ts";
import { Generator } from "../../src/autograd/random.ts";
import { scoped } from "../../src/autograd/scope.ts";
import { fromTypedArray } from "../../src/autograd/tensor.ts";
import { getBackend, setBackend } from "../../src/kernels/registry.ts";
import { createWasmBackend } from "../../src/kernels/wasm/create.ts";
import { crossEntropy } from "../../src/nn/cross-entropy.ts";
import { Linear } from "../../src/nn/linear.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import { loadMnist } from "../../src/train-mnist/data.ts";
import { tensorArb } from "../fixtures/arbitraries.ts";
import { expectClose, expectGradGradOk, expectGradOk } from "../fixtures/assertions.ts";
import { f64 } from "../fixtures/tensors.ts";

/** Per example: −log softmax(row)_y, or −Σ p·log softmax(row), rows along axis 1 of [N, C, D]. */
function referenceLosses(
  x: ArrayLike<number>,
  [n, c, d]: [number, number, number],
  target: (example: number, position: number, cls: number) => number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const row = Array.from({ length: c }, (_, k) => x[(i * c + k) * d + j]);
      const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
      out.push(row.reduce((s, v, k) => s - target(i, j, k) * (v - lse), 0));
    }
  }
  return out;
}

/** Logits [N, C] or [N, C, D], with class indices and target distributions for them. */
const caseArb = fc
  .record({
    n: fc.integer({ min: 1, max: 4 }),
    c: fc.integer({ min: 1, max: 5 }),
    d: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  })
  .chain(({ n, c, d }) => {
    const shape = d === undefined ? [n, c] : [n, c, d];
    const examples = n * (d ?? 1);
    return fc.record({
      dims: fc.constant<[number, number, number]>([n, c, d ?? 1]),
      logits: tensorArb(shape, (size) =>
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: size, maxLength: size }),
      ),
      classes: fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: examples, maxLength: examples }),
      weights: fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), {
        minLength: n * c * (d ?? 1),
        maxLength: n * c * (d ?? 1),
      }),
    });
  });

describe("crossEntropy", () => {
  it("class indices: −log softmax at the class, per example and reduced by mean and sum", () => {
    fc.assert(
      fc.property(caseArb, ({ dims, logits, classes }) => {
        const [, , d] = dims;
        const expected = referenceLosses(logits.dataSync(), dims, (i, j, k) =>
          classes[i * d + j] === k ? 1 : 0,
        );
        const none = crossEntropy(logits, classes, "none");
        expect(none.shape).toEqual(logits.shape.filter((_, i) => i !== 1));
        expectClose(none.dataSync(), expected, { atol: 1e-12, rtol: 1e-12 });
        const total = expected.reduce((s, v) => s + v, 0);
        expectClose([crossEntropy(logits, classes, "sum").item()], [total], { atol: 1e-12, rtol: 1e-12 });
        expectClose([crossEntropy(logits, classes).item()], [total / expected.length], {
          atol: 1e-12,
          rtol: 1e-12,
        });
      }),
      { numRuns: 40 },
    );
  });

  it("target probabilities: −Σ p log softmax, the same as indices when p is one-hot", () => {
    fc.assert(
      fc.property(caseArb, ({ dims, logits, classes, weights }) => {
        const [n, c, d] = dims;
        // Each example's weights normalised over its classes: a distribution per example.
        const p = weights.slice();
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < d; j++) {
            let s = 0;
            for (let k = 0; k < c; k++) s += p[(i * c + k) * d + j];
            for (let k = 0; k < c; k++) p[(i * c + k) * d + j] /= s;
          }
        }
        const probs = f64(p, logits.shape);
        const expected = referenceLosses(logits.dataSync(), dims, (i, j, k) => p[(i * c + k) * d + j]);
        expectClose(crossEntropy(logits, probs, "none").dataSync(), expected, { atol: 1e-12, rtol: 1e-12 });
        const oneHot = f64(
          Array.from({ length: n * c * d }, (_, f) => {
            const [i, k, j] = [Math.floor(f / (c * d)), Math.floor(f / d) % c, f % d];
            return classes[i * d + j] === k ? 1 : 0;
          }),
          logits.shape,
        );
        expectClose([crossEntropy(logits, oneHot).item()], [crossEntropy(logits, classes).item()], {
          atol: 1e-12,
          rtol: 1e-12,
        });
      }),
      { numRuns: 40 },
    );
  });

  it("first and second derivatives with respect to the logits (and the target probabilities)", () => {
    fc.assert(
      fc.property(caseArb, ({ logits, classes, weights }) => {
        const probs = f64(weights, logits.shape);
        expectGradOk((x) => crossEntropy(x, classes), [logits]);
        expectGradOk((x, p) => crossEntropy(x, p, "sum"), [logits, probs]);
        expectGradGradOk((x) => crossEntropy(x, classes, "none"), [logits]);
        expectGradGradOk((x, p) => crossEntropy(x, p, "none"), [logits, probs]);
      }),
      { numRuns: 15 },
    );
  });

  it("a single example of shape [C] takes one class index", () => {
    const x = f64([1, 2, 3], [3]);
    expect(crossEntropy(x, [2]).item()).toBeCloseTo(Math.log(Math.exp(-2) + Math.exp(-1) + 1), 12);
  });

  it("saturated logits (±1e4) give finite losses and gradients: softmax(x) − onehot", () => {
    const x = f64([1e4, -1e4, 0, -1e4, 1e4, 0], [2, 3]);
    x.requiresGrad = true;
    const loss = crossEntropy(x, [1, 1], "sum");
    expect(loss.item()).toBeCloseTo(2e4, 6);
    loss.backward();
    expectClose(x.grad!.dataSync(), [1, -1, 0, 0, 0, 0], { atol: 1e-12 });
  });

  it("an impossible class (logit −Infinity) not being the target leaves the loss finite", () => {
    const x = f64([Number.NEGATIVE_INFINITY, 0, 0], [1, 3]);
    expect(crossEntropy(x, [1]).item()).toBeCloseTo(Math.LN2, 12);
  });

  it("refuses bad class indices, their count, and target shapes, naming the loss", () => {
    const x = f64([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(() => crossEntropy(x, [0, 3])).toThrow(
      "crossEntropy: target 3 at position 1 is not a class index in [0, 3)",
    );
    expect(() => crossEntropy(x, [0, 1.5])).toThrow(
      "crossEntropy: target 1.5 at position 1 is not a class index",
    );
    expect(() => crossEntropy(x, [0])).toThrow(
      "crossEntropy: 1 class indices for logits [2, 3], which need 2 (one per example, shape [2])",
    );
    expect(() => crossEntropy(x, [-1, 0])).toThrow(
      "crossEntropy: target -1 at position 0 is not a class index in [0, 3)",
    );
    // Classes on axis 1 of [2, 3, 4]: one index per (row, position), 8 in all.
    expect(() => crossEntropy(f64(new Array(24).fill(0), [2, 3, 4]), [0, 1])).toThrow(
      "crossEntropy: 2 class indices for logits [2, 3, 4], which need 8 (one per example, shape [2, 4])",
    );
    expect(() => crossEntropy(x, f64([1, 0, 0], [1, 3]))).toThrow(
      "crossEntropy: target probabilities [1, 3] must have the shape of the logits [2, 3]",
    );
    expect(() => crossEntropy(f64([1], []), [0])).toThrow(
      "crossEntropy: logits must have a class axis, got a scalar",
    );
  });
});

describe("a softmax classifier on real MNIST digits", () => {
  it("its cross-entropy falls from ln 10 and it fits 64 digits after a few dozen Adam steps", () => {
    const data = loadMnist("train", { limit: 64 });
    const pixels = data.rows * data.cols;
    const x = fromTypedArray(data.images, [data.count, pixels]);
    const model = new Linear(pixels, 10, { generator: new Generator(0) });
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      opt.zeroGrad();
      const loss = crossEntropy(model.forward(x), data.labels);
      losses.push(loss.item());
      loss.backward();
      opt.step();
      releaseGraph(loss);
    }
    // At initialisation the outputs are near 0, so every class has probability ≈ 1/10.
    expect(losses[0]).toBeGreaterThan(Math.log(10) - 0.5);
    expect(losses[0]).toBeLessThan(Math.log(10) + 0.5);
    expect(losses[29]).toBeLessThan(0.2 * losses[0]);
    const predicted = model.forward(x).softmax(1).toArray() as number[][];
    const correct = predicted.filter((p, i) => p.indexOf(Math.max(...p)) === data.labels[i]).length;
    expect(correct).toBeGreaterThanOrEqual(60);
  });
});

describe("memory", () => {
  const previous = getBackend();
  afterEach(() => setBackend(previous));

  it("a classifier's steps in scoped() on the wasm backend hold a constant number of buffers", async () => {
    const wasm = await createWasmBackend({ threads: 1 });
    setBackend(wasm);
    const data = loadMnist("train", { limit: 32 });
    const model = new Linear(784, 10, { generator: new Generator(1) });
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    const buffers: number[] = [];
    for (let step = 0; step < 12; step++) {
      // Every new op on the way: softmax's shift, the gather of the picked classes, slice, concat, clamp.
      const [loss] = scoped(
        () => {
          const x = fromTypedArray(data.images, [data.count, 784]);
          const halves = [x.slice(0, 0, 16), x.slice(0, 16)];
          const logits = model.forward(concat(halves, 0)).clamp(-50, 50);
          opt.zeroGrad();
          const l = crossEntropy(logits, data.labels);
          l.backward();
          opt.step();
          return [l];
        },
        (kept) => kept,
      );
      expect(Number.isFinite(loss.item())).toBe(true);
      loss.dispose();
      buffers.push(wasm.memory().buffers);
    }
    expect(buffers[11]).toBe(buffers[2]);
  });
});
