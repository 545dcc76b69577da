/**
 * The instruction language the wasm kernels are written in: branch depths are the easy thing to get
 * wrong.
 */
import { describe, expect, it } from "vitest";
import { encodeModule, ValType } from "../../../src/kernels/wasm/encoding.ts";
import { FunctionBuilder, get, i32, set } from "../../../src/kernels/wasm/instructions.ts";
import { WebAssemblyApi as WebAssembly } from "../../../src/kernels/wasm/wasm-api.ts";

/** A one-function module over a small memory, instantiated. */
function instantiate(def: ReturnType<FunctionBuilder["finish"]>): (...args: number[]) => number {
  const bytes = encodeModule([def], { initialPages: 1, maximumPages: 1, shared: false });
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return instance.exports[def.name] as (...args: number[]) => number;
}

describe("the instruction language", () => {
  it("while loops and nested blocks branch to the right depth", () => {
    // sum of i·j for 0 ≤ i < n, 0 ≤ j < i: two nested while loops, an if inside.
    const f = new FunctionBuilder("triangle", [ValType.i32]);
    const n = f.param(ValType.i32);
    const i = f.local(ValType.i32);
    const j = f.local(ValType.i32);
    const sum = f.local(ValType.i32);
    const def = f.finish(
      f.while(
        () => i32.ltS(get(i), get(n)),
        () => [
          set(j, i32.const(0)),
          f.while(
            () => i32.ltS(get(j), get(i)),
            () => [
              f.if(i32.ne(get(j), i32.const(-1)), () => [
                set(sum, i32.add(get(sum), i32.mul(get(i), get(j)))),
              ]),
              set(j, i32.add(get(j), i32.const(1))),
            ],
          ),
          set(i, i32.add(get(i), i32.const(1))),
        ],
      ),
      get(sum),
    );
    const triangle = instantiate(def);
    for (const size of [0, 1, 2, 7, 30]) {
      let expected = 0;
      for (let a = 0; a < size; a++) for (let b = 0; b < a; b++) expected += a * b;
      expect(triangle(size)).toBe(expected);
    }
  });

  it("br leaves a block from inside a loop", () => {
    // The first i with i·i ≥ n, found by breaking out of an endless loop.
    const f = new FunctionBuilder("isqrt", [ValType.i32]);
    const n = f.param(ValType.i32);
    const i = f.local(ValType.i32);
    const def = f.finish(
      f.block((found) => [
        f.loop((again) => [
          f.brIf(found, i32.geS(i32.mul(get(i), get(i)), get(n))),
          set(i, i32.add(get(i), i32.const(1))),
          f.br(again),
        ]),
      ]),
      get(i),
    );
    const isqrt = instantiate(def);
    expect([0, 1, 2, 16, 17, 99].map((x) => isqrt(x))).toEqual([0, 1, 2, 4, 5, 10]);
  });
});
