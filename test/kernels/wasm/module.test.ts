/**
 * The generated WebAssembly module: valid with and without shared memory, exporting every kernel
 * the backend calls.
 */
import { describe, expect, it } from "vitest";
import { moduleBytes } from "../../../src/kernels/wasm/module.ts";
import { WebAssemblyApi as WebAssembly } from "../../../src/kernels/wasm/wasm-api.ts";

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
