/**
 * Engine regressions: the graph shapes and usage patterns that reverse-mode engines get wrong
 * (micrograd issues 2, 21, 53 among them). Expected gradients come from the calculus, by hand.
 */
import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { releaseGraph } from "../../src/autograd/engine.ts";
import { isGradEnabled, noGrad } from "../../src/autograd/grad-mode.ts";
import { valuesOf } from "../../src/autograd/scope.ts";
import { getBackend } from "../../src/kernels/registry.ts";
import { binaryCrossEntropy } from "../../src/nn/losses.ts";
import { expectClose } from "./helpers.ts";

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

describe("scopes", () => {
  it("valuesOf frees what a computation made but keeps what it returns, even results of composite ops", async () => {
    const x = tensor([
      [1, 2, 3],
      [0, 0, 0],
    ]);
    const before = getBackend().memory().buffers;
    const [lse, bce] = await valuesOf(() => [
      x.logsumexp(1),
      binaryCrossEntropy(tensor([0.5, 0.25]), tensor([1, 0]), "none"),
    ]);
    expect(Array.from(lse)[1]).toBeCloseTo(Math.log(3), 6);
    expect(Array.from(lse)[0]).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), 5);
    expect(Array.from(bce)[0]).toBeCloseTo(Math.log(2), 6);
    expect(Array.from(bce)[1]).toBeCloseTo(-Math.log(0.75), 6);
    expect(getBackend().memory().buffers).toBe(before);
  });
});
