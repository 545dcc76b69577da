import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { noGrad } from "../../src/autograd/engine.ts";
import { Generator } from "../../src/autograd/random.ts";
import { Linear } from "../../src/nn/linear.ts";
import { Module } from "../../src/nn/module.ts";
import { decodeSafetensors, encodeSafetensors } from "../../src/nn/safetensors.ts";

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

describe("safetensors", () => {
  it("round-trips float32 and float64 tensors and metadata, with an 8-byte aligned header", async () => {
    const tensors = {
      a: tensor([
        [1.5, -2],
        [3, 4],
      ]),
      b: tensor(Float64Array.from([Math.PI]), [1]),
    };
    const bytes = await encodeSafetensors(tensors, { note: "hello" });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    expect(header.a).toEqual({ dtype: "F32", shape: [2, 2], data_offsets: [0, 16] });
    expect(header.b).toEqual({ dtype: "F64", shape: [1], data_offsets: [16, 24] });
    const back = decodeSafetensors(bytes, "x.safetensors");
    expect(back.metadata).toEqual({ note: "hello" });
    expect(back.tensors.a.toArray()).toEqual([
      [1.5, -2],
      [3, 4],
    ]);
    expect(back.tensors.b.dtype).toBe("float64");
    expect(back.tensors.b.item()).toBe(Math.PI);
  });

  it("reports a truncated or corrupt file by name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "elbo-st-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "w.safetensors");
    writeFileSync(file, await encodeSafetensors({ a: tensor([1, 2, 3]) }));
    const bytes = readFileSync(file);
    expect(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), file)).toThrow(
      /w\.safetensors.*tensor a/,
    );
    expect(() => decodeSafetensors(bytes.subarray(0, 5), file)).toThrow(/w\.safetensors.*only 5 bytes/);
    const garbled = Uint8Array.from(bytes);
    garbled[9] = 0x7b; // "{" inside the JSON
    garbled[10] = 0x7b;
    expect(() => decodeSafetensors(garbled, file)).toThrow(/w\.safetensors.*not JSON/);
  });
});
