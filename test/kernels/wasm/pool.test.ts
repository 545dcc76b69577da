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
});
