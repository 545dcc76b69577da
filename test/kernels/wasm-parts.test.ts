/**
 * The pieces the wasm backend is built from, each on its own: the binary encoding, the
 * instruction language (branch depths are the easy thing to get wrong), the generated module, the
 * memory pool, shape merging, and the thread settings and lifecycle.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { collapse, forEachIndex } from "../../src/kernels/shape.ts";
import { createWasmBackend } from "../../src/kernels/wasm/backend.ts";
import { encodeModule, sleb, uleb, ValType } from "../../src/kernels/wasm/encoding.ts";
import { FunctionBuilder, get, i32, set } from "../../src/kernels/wasm/instructions.ts";
import { moduleBytes } from "../../src/kernels/wasm/module.ts";
import { Pool, sizeClass } from "../../src/kernels/wasm/pool.ts";
import { defaultThreadCount } from "../../src/kernels/wasm/spawn.ts";
import { WebAssemblyApi as WebAssembly } from "../../src/kernels/wasm/wasm-api.ts";

function decodeUleb(bytes: number[]): number {
  let value = 0;
  bytes.forEach((b, i) => {
    value += (b & 0x7f) * 2 ** (7 * i);
  });
  return value;
}

describe("LEB128", () => {
  it("matches the specification's examples", () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-128)).toEqual([0x80, 0x7f]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it("round-trips every unsigned 32-bit number", () => {
    fc.assert(fc.property(fc.nat({ max: 2 ** 32 - 1 }), (n) => decodeUleb(uleb(n)) === n));
  });

  it("refuses what it cannot encode", () => {
    expect(() => uleb(-1)).toThrow(/non-negative/);
    expect(() => sleb(0.5)).toThrow(/integer/);
  });
});

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

describe("the generated module", () => {
  it("is valid WebAssembly with and without shared memory", () => {
    expect(WebAssembly.validate(moduleBytes(false, 16))).toBe(true);
    expect(WebAssembly.validate(moduleBytes(true, 16))).toBe(true);
  });

  it("exports every kernel the backend calls", () => {
    const names = WebAssembly.Module.exports(new WebAssembly.Module(moduleBytes(false, 16))).map(
      (e) => e.name,
    );
    for (const name of [
      "matmul_block",
      "pack_a",
      "pack_b",
      "unary_softplus",
      "binary_add_vs",
      "reduce_cols_sum",
      "adam_update",
    ]) {
      expect(names).toContain(name);
    }
  });
});

describe("the pool", () => {
  it("size classes are 16-byte multiples, at most a quarter larger than asked, and grow with the request", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 30 }), (bytes) => {
        const size = sizeClass(bytes);
        return (
          size % 16 === 0 &&
          size >= bytes &&
          size <= Math.max(16, 1.25 * bytes + 16) &&
          sizeClass(bytes + 1) >= size
        );
      }),
    );
  });

  it("hands a freed block back to the next request of its class, and grows memory when it must", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 100 });
    let grown = 0;
    const pool = new Pool(memory, 1024, () => grown++);
    const a = pool.allocate(1000);
    const b = pool.allocate(1000);
    expect(b).toBeGreaterThanOrEqual(a + 1000);
    pool.free(a, 1000);
    expect(pool.allocate(990)).toBe(a); // same size class
    expect(pool.allocate(100_000)).toBeGreaterThan(b);
    expect(grown).toBe(1);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(100_000);
  });
});

describe("shape merging", () => {
  it("merges what can be walked as one, and visits every index with its offsets", () => {
    // [128, 200] + [200]: 128 rows of 200, the bias repeating (row stride 0).
    expect(
      collapse(
        [128, 200],
        [
          [200, 1],
          [0, 1],
        ],
      ),
    ).toEqual([
      { size: 128, strides: [200, 0] },
      { size: 200, strides: [1, 1] },
    ]);
    // Contiguous on both sides: one row.
    expect(
      collapse(
        [2, 3, 4],
        [
          [12, 4, 1],
          [12, 4, 1],
        ],
      ),
    ).toEqual([{ size: 24, strides: [1, 1] }]);
    const seen: [number, number, number][] = [];
    forEachIndex(
      collapse(
        [2, 1, 3],
        [
          [3, 3, 1],
          [0, 0, 1],
        ],
      ),
      2,
      ([x, y], k) => {
        seen.push([x, y, k]);
      },
    );
    expect(seen).toEqual([
      [0, 0, 0],
      [1, 1, 1],
      [2, 2, 2],
      [3, 0, 3],
      [4, 1, 4],
      [5, 2, 5],
    ]);
  });
});

describe("threads", () => {
  const saved = process.env.ELBO_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.ELBO_THREADS;
    else process.env.ELBO_THREADS = saved;
  });

  it("ELBO_THREADS sets the default thread count, and a bad value is explained", async () => {
    process.env.ELBO_THREADS = "3";
    expect(await defaultThreadCount()).toBe(3);
    process.env.ELBO_THREADS = "two";
    await expect(defaultThreadCount()).rejects.toThrow(/ELBO_THREADS/);
    delete process.env.ELBO_THREADS;
    expect(await defaultThreadCount()).toBeGreaterThanOrEqual(1);
  });

  it("a terminated backend keeps working on the calling thread", async () => {
    const backend = await createWasmBackend({ threads: 2, parallelFlops: 0 });
    expect(backend.threadCount).toBe(2);
    const a = backend.fromArray(Float32Array.from({ length: 64 }, (_, i) => i));
    const before = backend.readSync(
      backend.matmul(a, a, { batch: 1, m: 8, k: 8, n: 8, transA: false, transB: true }),
    );
    await backend.terminate();
    expect(backend.threadCount).toBe(1);
    expect(
      backend.readSync(backend.matmul(a, a, { batch: 1, m: 8, k: 8, n: 8, transA: false, transB: true })),
    ).toEqual(before);
  });

  it("a matmul after the shared memory grew still reaches the worker's instance", async () => {
    const backend = await createWasmBackend({ threads: 2, parallelFlops: 0 });
    try {
      const big = backend.fill(40 * 1024 * 1024, 1, "float32"); // 160 MB: the memory grows
      const a = backend.fill(64 * 64, 1, "float32");
      expect(
        Array.from(
          backend
            .readSync(backend.matmul(a, a, { batch: 1, m: 64, k: 64, n: 64, transA: false, transB: false }))
            .subarray(0, 3),
        ),
      ).toEqual([64, 64, 64]);
      backend.dispose(big);
    } finally {
      await backend.terminate();
    }
  });
});
