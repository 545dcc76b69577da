/**
 * Optimizer.finiteProbe(), the one number the training loop reads to learn that training is still
 * sound: finite exactly when every parameter and every optimizer buffer is. The default (SGD, and
 * Adam composed from ops on cpu) sums them all, in the parameters' dtype; Adam on wasm answers from
 * what its fused update saw, without another pass over memory.
 */
import { afterAll, describe, expect, it } from "vitest";
import { tensor } from "../../../src/autograd/create.ts";
import type { Tensor } from "../../../src/autograd/tensor.ts";
import { getBackend, setBackend } from "../../../src/kernels/registry.ts";
import { createWasmBackend } from "../../../src/kernels/wasm/create.ts";
import { Adam } from "../../../src/nn/optim/adam.ts";
import type { Optimizer } from "../../../src/nn/optim/optimizer.ts";
import { SGD } from "../../../src/nn/optim/sgd.ts";

const previous = getBackend();
afterAll(() => setBackend(previous));

const probe = (optimizer: Optimizer) => optimizer.finiteProbe().item();

function param(values: number[], dtype: "float32" | "float64" = "float32"): Tensor {
  return tensor(values, { requiresGrad: true, dtype });
}

/** One step with gradient g on each parameter. */
function step(optimizer: Optimizer, g: number[]): void {
  for (const p of optimizer.params) p.grad = tensor(g, { dtype: p.dtype });
  optimizer.step();
}

describe("Optimizer.finiteProbe", () => {
  it("SGD (the default): finite while all is, NaN or ±∞ once a parameter or momentum buffer is not", () => {
    const plain = new SGD([param([1, 2])], { lr: 0.1 });
    expect(Number.isFinite(probe(plain))).toBe(true);
    step(plain, [1, Number.POSITIVE_INFINITY]);
    expect(Number.isFinite(probe(plain))).toBe(false);
    const momentum = new SGD([param([1, 2])], { lr: 0.1, momentum: 0.9 });
    step(momentum, [1, 1]);
    expect(Number.isFinite(probe(momentum))).toBe(true);
    step(momentum, [Number.NaN, 1]);
    expect(probe(momentum)).toBeNaN();
    // A momentum buffer alone, loaded non-finite while the parameters are finite, is seen too.
    const loaded = new SGD([param([1, 2])], { lr: 0.1, momentum: 0.9 });
    loaded.loadStateDict({ step: 1, buffers: { momentum: [tensor([Number.POSITIVE_INFINITY, 0])] } });
    expect(probe(loaded)).toBe(Number.POSITIVE_INFINITY);
  });

  it("sums in the parameters' dtype: float64 parameters, composed Adam on cpu", () => {
    const adam = new Adam([param([1, 2], "float64"), param([3], "float64")]);
    expect(Number.isFinite(probe(adam))).toBe(true);
    step(adam, [0.5]);
    expect(adam.finiteProbe().dtype).toBe("float64");
    expect(Number.isFinite(probe(adam))).toBe(true);
  });

  it("Adam sees a non-finite parameter before its first step and after loading a non-finite state", () => {
    expect(probe(new Adam([param([1, Number.NaN])]))).toBeNaN();
    const adam = new Adam([param([1, 2])]);
    adam.loadStateDict({
      step: 3,
      buffers: { m: [tensor([0, Number.POSITIVE_INFINITY])], v: [tensor([0, 0])] },
    });
    expect(Number.isFinite(probe(adam))).toBe(false);
  });

  it("a parameter without a gradient is still watched (nothing vouched for it)", () => {
    const watched = param([Number.NaN]);
    const adam = new Adam([param([1]), watched]);
    adam.params[0].grad = tensor([1]);
    adam.step();
    expect(probe(adam)).toBeNaN();
  });

  it("Adam on wasm answers from its fused update: no pass over a parameter's memory, only over its probes, and a NaN gradient shows", async () => {
    const wasm = await createWasmBackend({ threads: 1 });
    setBackend(wasm);
    const adam = new Adam([param([1, 2, 3, 4, 5]), param([6])]);
    adam.params[0].grad = tensor([0.5, 0.5, 0.5, 0.5, 0.5]);
    adam.params[1].grad = tensor([0.5]);
    adam.step();
    // The sizes of what is summed: the probes (four numbers per thread), never a parameter (5 numbers).
    const summed: number[] = [];
    const reduce = wasm.reduce.bind(wasm);
    wasm.reduce = (...args) => {
      summed.push(args[1].size);
      return reduce(...args);
    };
    expect(probe(adam)).toBe(0);
    expect(summed).toEqual([4, 4]);
    adam.params[0].grad = tensor([1, Number.NaN, 1, 1, 1]);
    adam.params[1].grad = tensor([1]);
    adam.step();
    expect(probe(adam)).toBeNaN();
    expect(summed).toEqual([4, 4, 4, 4]);
    setBackend(previous);
  });
});

describe("Optimizer", () => {
  it("refuses a parameter that does not require grad, by name", () => {
    const frozen = tensor([1, 2]);
    frozen.name = "frozen";
    expect(() => new SGD([frozen], { lr: 0.1 })).toThrow("SGD: parameter frozen does not require grad");
    expect(() => new Adam([tensor([1])])).toThrow("Adam: parameter 0 does not require grad");
  });
});
