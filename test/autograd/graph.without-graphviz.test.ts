/**
 * Graphviz (@viz-js/viz) is an optional peer dependency: where it cannot be loaded, toSvg says what
 * to install and why the load failed, instead of a bare module error.
 */
import { describe, expect, it, vi } from "vitest";
import { tensor } from "../../src/autograd/create.ts";
import { toSvg } from "../../src/autograd/graph.ts";

vi.mock("@viz-js/viz", () => {
  throw new Error("Cannot find package '@viz-js/viz'");
});

describe("toSvg without Graphviz", () => {
  it("rejects naming the package to install and the reason", async () => {
    const y = tensor([1, 2]).sum();
    await expect(toSvg(y)).rejects.toThrow(
      /^toSvg: Graphviz \(the optional package @viz-js\/viz\) could not be loaded: npm install @viz-js\/viz@3 \(.+\)$/,
    );
    await expect(toSvg(y)).rejects.toThrow(/^toSvg: Graphviz/);
  });
});
