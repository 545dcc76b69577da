/**
 * binaryCrossEntropyWithLogits summed or averaged is one op with its gradient written out, which
 * the wasm backend fuses into one pass each way. Here: both gradients against finite differences
 * (float64), second derivatives (gradgradcheck), and on wasm the fused passes actually run, give
 * what the same backend's composed ops give, and step aside when the backward pass is recorded.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { gradgradcheck } from "../../src/autograd/gradcheck.ts";
import { hvp } from "../../src/autograd/transforms.ts";
import { cpuBackend, getBackend, setBackend } from "../../src/kernels/registry.ts";
import { createWasmBackend } from "../../src/kernels/wasm/create.ts";
import { binaryCrossEntropyWithLogits, type Reduction } from "../../src/nn/losses.ts";
import { valuesArb } from "../fixtures/arbitraries.ts";
import { expectGradOk } from "../fixtures/assertions.ts";
import { f32, f64 } from "../fixtures/tensors.ts";

const previous = getBackend();
const wasm = await createWasmBackend({ threads: 2, parallelElements: 0 });
// The same kernels without the fused methods: the op composes softplus, mul, sub and sum instead.
const composed = await createWasmBackend({ threads: 1 });
Object.assign(composed, { bceWithLogitsSum: undefined, bceWithLogitsGrad: undefined });
afterAll(async () => {
  setBackend(previous);
  await wasm.terminate();
});

/** Counts the calls of the wasm backend's fused methods. */
const calls = { sum: 0, grad: 0 };
for (const [method, key] of [
  ["bceWithLogitsSum", "sum"],
  ["bceWithLogitsGrad", "grad"],
] as const) {
  const original = wasm[method].bind(wasm) as (...args: never[]) => never;
  (wasm as unknown as Record<string, unknown>)[method] = (...args: never[]) => {
    calls[key]++;
    return original(...args);
  };
}

describe("binaryCrossEntropyWithLogits as one op", () => {
  it("its gradients with respect to the logits (σ(ℓ) − t) and the targets (−ℓ) match finite differences", () => {
    fc.assert(
      fc.property(
        valuesArb(6, -6, 6),
        valuesArb(6, 0, 1),
        fc.constantFrom<Reduction>("sum", "mean"),
        (l, t, reduction) => {
          expectGradOk(
            (x, y) => binaryCrossEntropyWithLogits(x, y, reduction),
            [f64(l, [2, 3]), f64(t, [2, 3])],
          );
          const report = gradgradcheck(
            (x) => binaryCrossEntropyWithLogits(x, f64(t, [2, 3]), reduction),
            [f64(l, [2, 3])],
          );
          expect(report.passed, report.message).toBe(true);
        },
      ),
      { numRuns: 20 },
    );
  });

  it("is one node named for itself when reduced, and elementwise terms with the input's shape with 'none'", () => {
    setBackend(cpuBackend());
    const l = [-1, 0.5, 2, -3, 0, 4];
    const t = [0, 1, 1, 0, 0.5, 1];
    const summed = binaryCrossEntropyWithLogits(f64(l, [2, 3]), f64(t, [2, 3]), "sum");
    expect(summed.op).toBe("binaryCrossEntropyWithLogits");
    const terms = binaryCrossEntropyWithLogits(f64(l, [2, 3]), f64(t, [2, 3]), "none");
    expect(terms.shape).toEqual([2, 3]);
    const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    for (const [i, v] of terms.dataSync().entries()) expect(v).toBeCloseTo(softplus(l[i]) - t[i] * l[i], 12);
  });

  it("on wasm: the fused passes run, and give the loss and gradients of the composed ops", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }).chain((n) => fc.tuple(valuesArb(n, -30, 30), valuesArb(n, 0, 1))),
        fc.constantFrom<Reduction>("sum", "mean"),
        ([l, t], reduction) => {
          const run = (backend: typeof wasm) => {
            setBackend(backend);
            const logits = f32(l, [l.length]);
            logits.requiresGrad = true;
            const target = f32(t, [t.length]);
            target.requiresGrad = true;
            const loss = binaryCrossEntropyWithLogits(logits, target, reduction);
            loss.backward();
            return { loss: loss.item(), dl: logits.grad!.dataSync(), dt: target.grad!.dataSync() };
          };
          const before = { ...calls };
          const fused = run(wasm);
          expect(calls.sum - before.sum).toBe(1);
          expect(calls.grad - before.grad).toBe(1);
          const reference = run(composed);
          // The terms are the same float32 numbers; only the order of the loss's additions differs.
          const absSum = l.reduce(
            (s, li, i) => s + Math.abs(Math.log1p(Math.exp(-Math.abs(li))) + Math.max(li, 0) - t[i] * li),
            0,
          );
          expect(Math.abs(fused.loss - reference.loss)).toBeLessThanOrEqual(
            (l.length + 1) * 2 ** -23 * absSum,
          );
          expect(Array.from(fused.dl)).toEqual(Array.from(reference.dl));
          expect(Array.from(fused.dt)).toEqual(Array.from(reference.dt));
        },
      ),
      { numRuns: 30 },
    );
  });

  it("on wasm, a recorded backward (a Hessian-vector product) takes the composed ops and matches cpu", () => {
    const l = [-2, -0.5, 0, 0.7, 3];
    const t = [0, 1, 0.5, 1, 0];
    const hv = (backend: typeof wasm | ReturnType<typeof cpuBackend>) => {
      setBackend(backend);
      const target = tensor(t);
      return hvp((x) => binaryCrossEntropyWithLogits(x, target, "sum"))(
        tensor(l),
        tensor([1, 1, 1, 1, 1]),
      ).dataSync();
    };
    const before = calls.grad;
    const onWasm = Array.from(hv(wasm));
    expect(calls.grad).toBe(before);
    // The Hessian is diagonal, σ(ℓ)(1 − σ(ℓ)).
    const sigma = (x: number) => 1 / (1 + Math.exp(-x));
    const onCpu = Array.from(hv(cpuBackend()));
    for (const [i, h] of onWasm.entries()) {
      expect(h).toBeCloseTo(sigma(l[i]) * (1 - sigma(l[i])), 6);
      expect(h).toBeCloseTo(onCpu[i], 6);
    }
  });
});
