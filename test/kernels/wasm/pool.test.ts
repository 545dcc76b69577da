/** The wasm memory pool: size classes, reuse of freed blocks, and growing memory when it must. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Pool, sizeClass } from "../../../src/kernels/wasm/pool.ts";
import { WebAssemblyApi as WebAssembly } from "../../../src/kernels/wasm/wasm-api.ts";

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

  it("once the memory cannot grow, takes the smallest larger free block whole, and gets it back whole", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const pool = new Pool(memory, 0, () => {}, 4); // 256 KiB
    const big = [pool.allocate(100_000), pool.allocate(60_000), pool.allocate(80_000)];
    expect(pool.room()).toBe(4 * 65536 - pool.info().reserved);
    for (const [address, bytes] of [
      [big[0], 100_000],
      [big[1], 60_000],
      [big[2], 80_000],
    ])
      pool.free(address, bytes);
    // The memory is full (256 KiB), and 50 000 bytes fit no free list: the 60 000-byte block, the smallest larger one, is taken.
    expect(pool.allocate(50_000)).toBe(big[1]);
    expect(pool.info().free).toBe(sizeClass(100_000) + sizeClass(80_000));
    expect(pool.allocate(70_000)).toBe(big[2]);
    expect(() => pool.allocate(150_000)).toThrow(
      /^wasm backend: out of memory: 150000 more bytes would need \d+ pages of 64 KiB, past the maximum of 4 \(256 KiB\)/,
    );
    // Freed, the borrowed block goes back to its own class: a request of that class gets it again.
    pool.free(big[1], 50_000);
    expect(pool.info().free).toBe(sizeClass(100_000) + sizeClass(60_000));
    expect(pool.allocate(60_000)).toBe(big[1]);
  });
});
