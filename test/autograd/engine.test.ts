/**
 * The engine: backward, gradients(), noGrad and releaseGraph. First the graph shapes and usage
 * patterns that reverse-mode engines get wrong (micrograd issues 2, 21, 53 among them), expected
 * gradients from the calculus by hand; then its promises that no gradient value shows (each .grad a
 * tensor of its own, an input an op gives no gradient keeps none, gradients() leaves behind exactly
 * what was asked for), its errors, and no silently wrong gradient: a tensor changed in place after
 * an op read it makes backward throw, naming the op, the tensor and the fix.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensor, zeros } from "../../src/autograd/create.ts";
import { gradients, releaseGraph } from "../../src/autograd/engine.ts";
import { enableGrad, isGradEnabled, noGrad } from "../../src/autograd/grad-mode.ts";
import { applyOp } from "../../src/autograd/op.ts";
import { scoped } from "../../src/autograd/scope.ts";
import type { Tensor } from "../../src/autograd/tensor.ts";
import { getBackend } from "../../src/kernels/registry.ts";
import { Adam } from "../../src/nn/optim/adam.ts";
import { SGD } from "../../src/nn/optim/sgd.ts";
import { RUNS, randomTensorArb, tensorArb } from "../fixtures/arbitraries.ts";
import { expectClose, expectGradGradOk, expectGradOk } from "../fixtures/assertions.ts";

const values = [0.5, -1.25, 2, 3];

function leaf(data: number[] = values) {
  return tensor(data, { dtype: "float64", requiresGrad: true });
}

function read(t: { dataSync(): ArrayLike<number> } | null): number[] {
  expect(t).not.toBeNull();
  return Array.from(t!.dataSync());
}

describe("reused nodes", () => {
  it("b = a + a; c = b · b gives dc/da = 8a", () => {
    const a = leaf();
    const b = a.add(a);
    const c = b.mul(b);
    c.sum().backward();
    expect(read(a.grad)).toEqual(values.map((v) => 8 * v));
  });

  it("diamond: d = exp(a) · a² through two branches gives eᵃ·a² + 2a·eᵃ", () => {
    const a = leaf();
    const left = a.exp();
    const right = a.mul(a);
    left.mul(right).sum().backward();
    expectClose(
      read(a.grad),
      values.map((v) => Math.exp(v) * (v * v + 2 * v)),
      { rtol: 1e-14 },
    );
  });

  it("a nested diamond where one branch is reused twice downstream", () => {
    // y = (2a)·(2a + 3a) = 10a², dy/da = 20a
    const a = leaf();
    const twice = a.mul(2);
    const y = twice.mul(twice.add(a.mul(3)));
    y.sum().backward();
    expect(read(a.grad)).toEqual(values.map((v) => 20 * v));
  });
});

describe("deep graphs", () => {
  it("a chain of 10,000 multiplications by 1.0001 backpropagates without overflowing the stack", () => {
    const x = tensor([2], { dtype: "float64", requiresGrad: true });
    let y = x;
    for (let i = 0; i < 10_000; i++) y = y.mul(1.0001);
    y.sum().backward();
    // dy/dx = 1.0001^10000; 10,000 roundings of relative 2⁻⁵³ each stay well below 1e-11.
    expectClose(read(x.grad), [1.0001 ** 10_000], { rtol: 1e-11 });
    expectClose(read(y), [2 * 1.0001 ** 10_000], { rtol: 1e-11 });
  });

  it("a chain of 10,000 additions of a small number, each also reusing x, has gradient 10,001", () => {
    const x = tensor([1], { dtype: "float64", requiresGrad: true });
    let y = x;
    for (let i = 0; i < 10_000; i++) y = y.add(x.mul(0.5)).sub(x.mul(0.5)).add(x).add(0.001);
    y.sum().backward();
    expect(read(x.grad)).toEqual([10_001]);
  });
});

describe("gradient accumulation", () => {
  it("backward twice adds twice (documented); zeroGrad starts over", () => {
    const a = leaf();
    const loss = a.mul(a).sum();
    loss.backward();
    loss.backward();
    expect(read(a.grad)).toEqual(values.map((v) => 4 * v));
    a.zeroGrad();
    expect(a.grad).toBeNull();
    a.mul(3).sum().backward();
    expect(read(a.grad)).toEqual([3, 3, 3, 3]);
  });

  it("tensors without requiresGrad keep grad null, also when they feed the loss", () => {
    const a = leaf();
    const c = tensor([1, 2, 3, 4], { dtype: "float64" });
    const y = a.mul(c).add(c);
    y.sum().backward();
    expect(c.grad).toBeNull();
    expect(read(a.grad)).toEqual([1, 2, 3, 4]);
  });

  it("intermediates keep no grad unless retainGrad() is called", () => {
    const a = leaf();
    const kept = a.mul(3).retainGrad();
    const dropped = a.mul(2);
    kept.mul(dropped).sum().backward();
    // d/d(kept) of kept·dropped is dropped = 2a; d/da of 6a² is 12a
    expect(read(kept.grad)).toEqual(values.map((v) => 2 * v));
    expect(dropped.grad).toBeNull();
    expect(read(a.grad)).toEqual(values.map((v) => 12 * v));
  });

  it("backward with an explicit upstream gradient on a non-scalar output", () => {
    const a = tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: "float64", requiresGrad: true },
    );
    const y = a.mul(a); // dy/da = 2a elementwise, so a.grad = 2a ⊙ dy
    const dy = tensor(
      [
        [1, 0, -1],
        [0.5, 2, 0],
      ],
      { dtype: "float64" },
    );
    y.backward(dy);
    expect(a.grad!.toArray()).toEqual([
      [2, 0, -6],
      [4, 20, 0],
    ]);
  });

  it("a gradient that reaches a leaf through a broadcast is summed back to the leaf's shape", () => {
    const bias = tensor([1, 2, 3], { dtype: "float64", requiresGrad: true });
    const x = tensor(
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
      { dtype: "float64" },
    );
    x.mul(bias).sum().backward();
    expect(read(bias.grad)).toEqual([3, 3, 3]);
  });
});

describe("noGrad", () => {
  it("builds no graph: results require no grad and record no inputs", () => {
    const a = leaf();
    const y = noGrad(() => a.mul(2).exp().sum());
    expect(y.requiresGrad).toBe(false);
    expect(y.inputs).toEqual([]);
    expect(y.backwardFn).toBeNull();
    expect(y.isLeaf).toBe(true);
    expect(() => y.backward()).toThrow(/does not require grad/);
  });

  it("restores the previous state, also when fn throws, and nests", () => {
    expect(isGradEnabled()).toBe(true);
    expect(() =>
      noGrad(() => {
        throw new Error("inside");
      }),
    ).toThrow("inside");
    expect(isGradEnabled()).toBe(true);
    noGrad(() => {
      noGrad(() => undefined);
      expect(isGradEnabled()).toBe(false);
    });
    expect(isGradEnabled()).toBe(true);
    expect(leaf().mul(2).requiresGrad).toBe(true);
  });
});

describe("releaseGraph", () => {
  it("frees every intermediate buffer while leaves and their grads stay readable", () => {
    // Synchronous from start to end, so no garbage-collector callback can move the counter meanwhile.
    const backend = getBackend();
    const x = tensor([1, 2, 3], { dtype: "float64" });
    const w = leaf([0.5, -1, 2]);
    const b = leaf([0.1]);
    const h = x.mul(w); // intermediate 1
    const z = h.add(b); // intermediate 2
    const t = z.tanh(); // intermediate 3
    const loss = t.sum(); // intermediate 4
    loss.backward();
    const before = backend.memory().buffers;
    releaseGraph(loss);
    expect(before - backend.memory().buffers).toBe(4);
    for (const freed of [h, z, t, loss]) expect(() => freed.dataSync()).toThrow(/after dispose/);
    expect(read(x)).toEqual([1, 2, 3]);
    expect(read(w)).toEqual([0.5, -1, 2]);
    // d/dw Σ tanh(x·w + b) = x·(1 − tanh²), d/db = Σ (1 − tanh²)
    const slope = [0.6, -1.9, 6.1].map((v) => 1 - Math.tanh(v) ** 2);
    expectClose(
      read(w.grad),
      [1, 2, 3].map((xi, i) => xi * slope[i]),
      { rtol: 1e-14 },
    );
    expectClose(read(b.grad), [slope[0] + slope[1] + slope[2]], { rtol: 1e-14 });
    // Releasing twice is harmless.
    releaseGraph(loss);
    expect(before - backend.memory().buffers).toBe(4);
  });
});

describe("gradient ownership", () => {
  it("each leaf's .grad is its own tensor, even when add passes one gradient object to both", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const dy = tensor([0.5, -1]);
    a.add(b).backward(dy);
    expect(a.grad).not.toBe(b.grad);
    expect(a.grad).not.toBe(dy);
    a.grad!.dispose();
    expect(b.grad!.toArray()).toEqual([0.5, -1]);
    expect(dy.toArray()).toEqual([0.5, -1]);
  });
});

/** a + b whose backward gives a its gradient and b none (null), though b requires grad. */
function addGradToFirstOnly(a: Tensor, b: Tensor): Tensor {
  return applyOp(
    "addGradToFirstOnly",
    [a, b],
    () => a.add(b),
    (g) => [() => g, null],
  );
}

describe("backward", () => {
  it("gives each .grad a tensor of its own, never the seed nor another's, safe to dispose alone", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const seed = tensor([5, 6]);
    // add hands its gradient on unchanged: one object reaches both inputs.
    a.add(b).backward(seed);
    expect(a.grad).not.toBe(b.grad);
    expect(a.grad).not.toBe(seed);
    expect(b.grad).not.toBe(seed);
    a.grad?.dispose();
    expect(b.grad?.toArray()).toEqual([5, 6]);
    expect(seed.toArray()).toEqual([5, 6]);
  });

  it("leaves .grad null on an input whose rule is null, though it requires grad", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    addGradToFirstOnly(a, b).sum().backward();
    expect(a.grad?.toArray()).toEqual([1, 1]);
    expect(b.grad).toBeNull();
    expect(gradients(addGradToFirstOnly(a, b).sum(), [a, b]).map((g) => g?.toArray() ?? null)).toEqual([
      [1, 1],
      null,
    ]);
  });
});

describe("gradients", () => {
  it("leaves exactly the gradients asked for alive, none of the pass's other tensors", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const w = tensor([3, 4], { requiresGrad: true });
    const loss = x.mul(w).exp().sum();
    const before = x.backend.memory().buffers;
    const [gx] = gradients(loss, [x]);
    expect(x.backend.memory().buffers - before).toBe(1);
    expect(gx?.toArray()).toEqual(
      [3 * Math.fround(Math.exp(3)), 4 * Math.fround(Math.exp(8))].map(Math.fround),
    );
  });

  it("run inside a scope, hands that scope the gradients (tensors only), which frees them unless kept", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const before = x.backend.memory().buffers;
    const kept = scoped(
      () => {
        const [g] = gradients(x.mul(x).sum(), [x]);
        const [unkept] = gradients(x.mul(3).sum(), [x]);
        return { g, unkept };
      },
      (r) => [r.g],
    );
    expect(kept.g?.toArray()).toEqual([2, 4]);
    expect(() => kept.unkept?.dataSync()).toThrow(/used after dispose/);
    expect(x.backend.memory().buffers - before).toBe(1);
  });

  it("names itself when the output needs a seed or the seed does not fit", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => gradients(x.mul(2), [x])).toThrow(/^gradients: output of shape \[2\] is not a scalar/);
    expect(() => gradients(x.mul(2), [x], tensor([1]))).toThrow(
      /^gradients: gradient of shape \[1\] \(float32\) does not match the output's \[2\] \(float32\)/,
    );
  });
});

const m23 = () => zeros([2, 3], { requiresGrad: true });

describe("backward errors", () => {
  it("backward on a non-scalar without a gradient", () => {
    expect(() => m23().mul(2).backward()).toThrow(/^backward: output of shape \[2, 3\] is not a scalar/);
  });

  it("backward with a gradient of the wrong shape or dtype", () => {
    const y = m23().mul(2);
    expect(() => y.backward(zeros([3, 2]))).toThrow(/^backward: gradient of shape \[3, 2\].*\[2, 3\]/);
    expect(() => y.backward(zeros([2, 3], { dtype: "float64" }))).toThrow(
      /^backward: .*float64.*\[2, 3\].*float32/,
    );
  });

  it("backward on a tensor that does not require grad", () => {
    expect(() => zeros([1]).mul(2).backward()).toThrow(/^backward: this tensor does not require grad/);
  });
});

describe("tensors changed in place before backward", () => {
  it("the regression: y = a·a summed, a zeroed under noGrad, then backward throws instead of giving [0, 0, 0]", () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    a.name = "a";
    const y = a.mul(a).sum();
    noGrad(() => a.assign(zeros([3])));
    expect(() => y.backward()).toThrow(
      /^backward of mul: one of the tensors needed for gradient computation has been modified by an in-place operation: input 0, the float32 \[3\] tensor 'a' \(a leaf\), was changed by assign\(\) after mul was computed \(it is at version 1, mul used version 0\)\. Call backward\(\) before changing it/,
    );
    expect(a.grad).toBeNull();
  });

  it("without the change the same graph gives [2, 4, 6]; changing after backward, then a new forward, is fine", () => {
    const a = tensor([1, 2, 3], { requiresGrad: true });
    a.mul(a).sum().backward();
    expect(a.grad?.toArray()).toEqual([2, 4, 6]);
    noGrad(() => a.assign(zeros([3]).add(1)));
    a.zeroGrad();
    a.mul(a).sum().backward();
    expect(a.grad?.toArray()).toEqual([2, 2, 2]);
    expect(a.version).toBe(1);
  });

  it("an op's output changed in place is caught too (exp's VJP reads its output)", () => {
    const x = tensor([0, 1], { requiresGrad: true });
    const e = x.exp();
    noGrad(() => e.assign(zeros([2])));
    expect(() => e.backward(tensor([1, 1]))).toThrow(
      /^backward of exp: .*: its output, the float32 \[2\] tensor \(made by exp\)/,
    );
  });

  it("assign on a tensor that requires grad is refused outside noGrad, saying to wrap it; plain tensors may be assigned", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    w.name = "w";
    expect(() => w.assign(zeros([2]))).toThrow(
      /^assign: the float32 \[2\] tensor 'w' \(a leaf\) requires grad, .*wrap the update in noGrad\(\(\) => …\)/,
    );
    expect(w.toArray()).toEqual([1, 2]);
    const buffer = tensor([1, 2]);
    buffer.assign(zeros([2]));
    expect(buffer.toArray()).toEqual([0, 0]);
  });

  it("optimizers update under noGrad: a forward, backward, step loop runs and the parameter moves", () => {
    for (const make of [
      (p: ReturnType<typeof tensor>) => new SGD([p], { lr: 0.1, momentum: 0.9 }),
      (p: ReturnType<typeof tensor>) => new Adam([p], { lr: 0.1 }),
    ]) {
      const p = tensor([1, -1], { requiresGrad: true });
      const optimizer = make(p);
      for (let i = 0; i < 3; i++) {
        optimizer.zeroGrad();
        p.mul(p).sum().backward();
        optimizer.step();
      }
      const [a, b] = p.toArray() as number[];
      expect(Math.abs(a)).toBeLessThan(1);
      expect(Math.abs(b)).toBeLessThan(1);
    }
  });
});

describe("gradients()", () => {
  it("gives null for a root that needs no gradient and for inputs it does not depend on", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    expect(gradients(zeros([1]).sum(), [a, b])).toEqual([null, null]);
    const [ga, gb] = gradients(a.mul(a).sum(), [a, b]);
    expect(ga?.toArray()).toEqual([2, 4]);
    // Without createGraph the gradient is a plain value, with no graph of its own.
    expect(ga?.requiresGrad).toBe(false);
    expect(gb).toBeNull();
    expect(a.grad).toBeNull();
  });

  it("runs only the gradient rules on a path to the tensors asked for", () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const ran: string[] = [];
    const product = applyOp(
      "product",
      [a, b],
      () => a.mul(b),
      (g) => [
        () => {
          ran.push("a");
          return g.mul(b);
        },
        () => {
          ran.push("b");
          return g.mul(a);
        },
      ],
    );
    const [gb] = gradients(product.sum(), [b]);
    expect(gb?.toArray()).toEqual([1, 2]);
    expect(ran).toEqual(["b"]);
  });

  it("enableGrad records a graph even inside noGrad, and noGrad comes back after it", () => {
    const x = tensor([2], { requiresGrad: true });
    noGrad(() => {
      const y = enableGrad(() => x.mul(x));
      expect(y.requiresGrad).toBe(true);
      expect(y.op).toBe("mul");
      expect(x.mul(x).requiresGrad).toBe(false);
    });
  });
});

describe("the methods and creators a model is written with", () => {
  it("backward({ createGraph: true }) records the gradient, so it can be differentiated again", () => {
    const x = tensor([3], { requiresGrad: true });
    x.mul(x).mul(x).sum().backward({ createGraph: true });
    expect(x.grad?.item()).toBe(27); // 3x²
    expect(x.grad?.requiresGrad).toBe(true);
    const g = x.grad as Tensor;
    x.zeroGrad();
    g.sum().backward();
    expect(x.grad?.item()).toBe(18); // 6x
  });
});

describe("compositions", () => {
  it("a small network: tanh(x·Wᵀ + b) · v summed, gradients for every parameter", () => {
    const arb = fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
      .chain(([batch, inp, out]) =>
        fc.tuple(tensorArb([batch, inp]), tensorArb([out, inp]), tensorArb([out]), tensorArb([batch, out])),
      );
    fc.assert(
      fc.property(arb, (inputs) =>
        expectGradOk((x, w, b, v) => x.matmul(w, { transB: true }).add(b).tanh().mul(v).sum(), inputs),
      ),
      RUNS,
    );
  });

  it("a tensor used by several ops gets the sum of their gradients", () => {
    fc.assert(
      fc.property(randomTensorArb(), (x) =>
        expectGradOk((t) => t.mul(t).add(t.exp()).sub(t.sigmoid().mul(t)), [x]),
      ),
      RUNS,
    );
  });

  it("a whole network: tanh(x·Wᵀ + b)·v summed, mixed second derivatives between every pair", () => {
    fc.assert(
      fc.property(
        fc
          .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
          .chain(([n, h]) =>
            fc.tuple(tensorArb([n, 2]), tensorArb([h, 2]), tensorArb([h]), tensorArb([h, 1])),
          ),
        (inputs) =>
          expectGradGradOk(
            (x, w, b, v) => x.matmul(w, { transB: true }).add(b).tanh().matmul(v).sum(),
            inputs,
            {
              name: "network",
            },
          ),
      ),
      { numRuns: 6 },
    );
  });
});
