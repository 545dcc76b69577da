import { describe, expect, it } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/grad-mode.ts";
import { Generator } from "../../src/autograd/random.ts";
import { Linear } from "../../src/nn/linear.ts";
import { Module } from "../../src/nn/module.ts";

class TwoLayers extends Module {
  readonly first: Linear;
  readonly second: Linear;
  constructor(generator: Generator) {
    super();
    this.first = this.registerModule("first", new Linear(3, 4, { generator }));
    this.second = this.registerModule("second", new Linear(4, 2, { generator }));
  }
}

describe("Module", () => {
  it("names parameters by dotted path, in registration order", () => {
    const m = new TwoLayers(new Generator(1));
    expect(m.namedParameters().map(([n, t]) => [n, t.shape])).toEqual([
      ["first.weight", [4, 3]],
      ["first.bias", [4]],
      ["second.weight", [2, 4]],
      ["second.bias", [2]],
    ]);
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  it("train() and eval() reach every sub-module", () => {
    const m = new TwoLayers(new Generator(1)).eval();
    expect([m.training, m.first.training, m.second.training]).toEqual([false, false, false]);
    m.train();
    expect([m.training, m.first.training, m.second.training]).toEqual([true, true, true]);
  });

  it("stateDict is a snapshot, and loadStateDict restores it", () => {
    const a = new TwoLayers(new Generator(1));
    const b = new TwoLayers(new Generator(2));
    const state = a.stateDict();
    noGrad(() => a.first.weight.assign(a.first.weight.mul(0)));
    expect(state["first.weight"].toArray()).not.toEqual(a.first.weight.toArray());
    b.loadStateDict(state);
    expect(b.first.weight.toArray()).toEqual(state["first.weight"].toArray());
    expect(b.second.bias!.toArray()).toEqual(state["second.bias"].toArray());
  });

  it("loadStateDict names missing, unexpected and mis-shaped entries and changes nothing", () => {
    const m = new TwoLayers(new Generator(1));
    const before = m.first.weight.toArray();
    const state = m.stateDict();
    const { ["second.bias"]: _, ...missing } = state;
    expect(() => m.loadStateDict(missing)).toThrow(/missing second\.bias/);
    expect(() => m.loadStateDict({ ...state, extra: tensor([1]) })).toThrow(/unexpected extra/);
    expect(() => m.loadStateDict({ ...state, "first.weight": tensor([[1, 2]]) })).toThrow(
      /first\.weight has shape \[1, 2\].*\[4, 3\]/,
    );
    expect(m.first.weight.toArray()).toEqual(before);
  });

  it("loadStateDict's message lists what is missing, then what is unexpected, and nothing else", () => {
    const m = new TwoLayers(new Generator(1));
    const { ["second.bias"]: _, ["first.weight"]: __, ...partial } = m.stateDict();
    const message = (state: Record<string, ReturnType<typeof tensor>>) => {
      try {
        m.loadStateDict(state);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error("loadStateDict accepted a state that does not match");
    };
    expect(message(partial)).toBe("loadStateDict: missing first.weight, second.bias");
    expect(message({ ...m.stateDict(), extra: tensor([1]) })).toBe("loadStateDict: unexpected extra");
    expect(message({ ...partial, extra: tensor([1]), more: tensor([2]) })).toBe(
      "loadStateDict: missing first.weight, second.bias; unexpected extra, more",
    );
  });

  class Pair extends Module {
    readonly a = this.registerModule("a", new Linear(2, 2, { generator: new Generator(0) }));
    readonly b = this.registerModule("b", new Linear(2, 1, { generator: new Generator(1) }));
  }

  it("starts in train mode; eval() and train() set every sub-module", () => {
    const m = new Pair();
    expect([m.training, m.a.training, m.b.training]).toEqual([true, true, true]);
    m.eval();
    expect([m.training, m.a.training, m.b.training]).toEqual([false, false, false]);
    m.train();
    expect([m.training, m.a.training, m.b.training]).toEqual([true, true, true]);
  });

  it("zeroGrad clears every parameter's gradient; a parameter keeps a name it already had", () => {
    const m = new Pair();
    m.b
      .forward(m.a.forward(tensor([[1, 2]])))
      .sum()
      .backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().map((p) => p.grad)).toEqual([null, null, null, null]);
    expect(m.a.weight.name).toBe("weight");
  });

  it("loadStateDict names the missing and the unexpected entries, each only when there are some", () => {
    const m = new Pair();
    const state = m.stateDict();
    const { ["a.bias"]: _, ...missing } = state;
    expect(() => m.loadStateDict(missing)).toThrow(/^loadStateDict: missing a\.bias$/);
    expect(() => m.loadStateDict({ ...state, extra: state["a.bias"] })).toThrow(
      /^loadStateDict: unexpected extra$/,
    );
    expect(() => m.loadStateDict({ ...missing, extra: state["a.bias"] })).toThrow(
      /^loadStateDict: missing a\.bias; unexpected extra$/,
    );
  });
});

describe("Module with many parameters", () => {
  it("lists a child's 300,000 parameters (no spread into push, which overflows the stack)", () => {
    class Many extends Module {
      constructor(n: number) {
        super();
        for (let i = 0; i < n; i++) this.registerParameter(`p${i}`, tensor([i]));
      }
    }
    class Parent extends Module {
      constructor() {
        super();
        this.registerModule("child", new Many(300_000));
      }
    }
    const named = new Parent().namedParameters();
    expect(named).toHaveLength(300_000);
    expect(named[299_999][0]).toBe("child.p299999");
  });
});
