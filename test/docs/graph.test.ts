/**
 * Graphs a student can read: toDot lays the graph out top to bottom with a few short lines per
 * tensor, and toSvg renders it through Graphviz in WebAssembly to well-formed SVG of a sensible
 * size (the old left-to-right record layout drew a 16-node MLP as a 7952×362 strip).
 * Well-formed is checked by resvg, whose XML parser (roxmltree) rejects any malformed document.
 */
import { resolve } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { Generator, randn, type Tensor, tensor, toDot, toSvg } from "../../src/index.ts";
import { tinyVaeLoss } from "../browser/tiny-vae.ts";

/** A 2-layer MLP with a squared-error loss: 16 tensors (or more) in its graph. */
function mlpLoss(): Tensor {
  const generator = new Generator(0);
  const param = (shape: number[], name: string) => {
    const t = randn(shape, { generator, requiresGrad: true });
    t.name = name;
    return t;
  };
  const x = randn([4, 3], { generator });
  const [w1, b1, w2, b2] = [param([3, 8], "W1"), param([8], "b1"), param([8, 1], "W2"), param([1], "b2")];
  const p = x.matmul(w1).add(b1).relu().matmul(w2).add(b2).sigmoid();
  const loss = p
    .sub(tensor([[1], [0], [1], [0]]))
    .pow(2)
    .mean();
  loss.backward();
  return loss;
}

describe("toDot", () => {
  it("shows each tensor's op, shape, value and gradient, top to bottom, inputs in argument order", () => {
    const w = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    w.name = "weights";
    const x = tensor([[0.5, -0.5]]);
    const h = x.matmul(w).relu();
    h.name = "hidden";
    const loss = h.sum();
    loss.backward();
    const dot = toDot(loss);
    expect(dot).toMatch(/^digraph \w+ \{/);
    expect(dot).toContain("rankdir=TB");
    expect(dot).toContain("ordering=in");
    expect(dot).toContain("weights · leaf\\l");
    expect(dot).toContain("hidden · relu\\l[1, 2]\\l");
    expect(dot).toContain("const [1, 2]\\l"); // the shape shares the first line where the box is wide enough
    // relu(x·w) = relu([-1, -1]) = 0, so no gradient reaches w: dL/dw = xᵀ·0.
    expect(dot).toContain("grad [0, 0, 0, 0]");
    expect(dot).toContain("grad not kept"); // hidden is an intermediate without retainGrad()
    // One edge per input; x and w feed matmul in that order, and with ordering=in Graphviz draws
    // them left to right in the order their edges are written.
    const edges = [...dot.matchAll(/(t\d+) -> (t\d+)/g)].map((m) => [m[1], m[2]]);
    expect(edges).toHaveLength(4);
    const idOf = (labelStart: string) => new RegExp(`(t\\d+) \\[label="${labelStart}`).exec(dot)![1];
    const intoMatmul = edges.filter(([, to]) => to === idOf("matmul")).map(([from]) => from);
    expect(intoMatmul).toEqual([idOf("const"), idOf("weights")]);
  });

  it("summarizes large tensors by mean and range and draws a number operand as just the number", () => {
    const x = tensor(
      Float32Array.from({ length: 10 }, (_, i) => i),
      [10],
      { requiresGrad: true },
    );
    const y = x.mul(2).sum();
    y.backward();
    const dot = toDot(y);
    // A summary longer than a box's line is broken before its range.
    expect(dot).toContain("value mean 4.500\\l  in [0, 9]\\l");
    expect(dot).toContain("grad mean 2\\l  in [2, 2]\\l");
    expect(dot).toMatch(/label="2\\l", shape=plaintext/);
  });

  it("breaks a long list of values after a comma, and leaves a long name whole", () => {
    const x = tensor([-0.4946, 0.2667, -0.5558, 0.2041], { requiresGrad: true });
    x.name = "a rather long parameter name";
    const dot = toDot(x);
    expect(dot).toContain("value [-0.4946,\\l  0.2667, -0.5558,\\l  0.2041]\\l");
    expect(dot).toContain('label="a rather long parameter name · leaf\\l[4]\\l');
  });

  it("marks float64 tensors and leaves float32 ones plain", () => {
    const a = tensor([1, 2], { dtype: "float64", requiresGrad: true });
    expect(toDot(a.exp())).toContain("[2] float64");
  });
});

describe("toSvg", () => {
  it("renders a known small graph to well-formed SVG showing its labels", async () => {
    const a = tensor(2, { requiresGrad: true });
    a.name = "a";
    const y = a.mul(a).add(a);
    y.backward();
    const svg = await toSvg(y);
    expect(() => new Resvg(svg)).not.toThrow();
    expect(svg).toContain("<svg");
    expect(svg).toContain("a · leaf");
    expect(svg).toContain("grad [5]"); // d(a² + a)/da = 2a + 1 = 5
    expect(svg.match(/class="node"/g)).toHaveLength(3);
  });

  it("draws a 16-node MLP as a picture, not a strip", async () => {
    const loss = mlpLoss();
    const nodes = toDot(loss).match(/\[label=/g)!.length;
    expect(nodes).toBeGreaterThanOrEqual(16);
    const svg = await toSvg(loss);
    const { width, height } = new Resvg(svg); // the size it renders at, in px
    // Readable on a screen: neither side beyond ~1000 px, and no more than 2.5 times as wide as tall.
    expect(width).toBeLessThan(1000);
    expect(height).toBeLessThan(1200);
    expect(width / height).toBeLessThan(2.5);
    expect(height / width).toBeLessThan(2.5);
  });
});

describe("the tutorial's tiny VAE (chapter 6)", () => {
  it("is drawn at a size a reading column shows without shrinking it: under 900 px wide, its text 10 pt", async () => {
    const svg = await toSvg(tinyVaeLoss());
    // Graphviz sizes the picture in points; a browser shows 1 pt as 4/3 px. It was 840 × 1274 pt
    // (1120 px wide: a reading column scaled it to about 80 %), boxes sized for Helvetica; now 648 × 1325.
    const [width, height] = /<svg width="([\d.]+)pt" height="([\d.]+)pt"/.exec(svg)!.slice(1).map(Number);
    expect((width * 4) / 3).toBeLessThan(900);
    expect(height).toBeLessThan(1400);
    expect(svg).toMatch(/font-size="10.00"/);
    expect(svg).not.toMatch(/font-size="[0-9]\./);
  });
});

describe("Graphviz is loaded only by a program that draws", () => {
  it("a browser bundle of graph.ts keeps Graphviz in a chunk of its own, fetched on the first toSvg", async () => {
    const result = await build({
      entryPoints: [resolve(import.meta.dirname, "../../src/autograd/graph.ts")],
      bundle: true,
      platform: "browser",
      format: "esm",
      splitting: true,
      outdir: "out",
      write: false,
      logLevel: "silent",
    });
    const entry = result.outputFiles.find((f) => f.path.endsWith("graph.js"))!;
    const chunks = result.outputFiles.filter((f) => f !== entry);
    // The entry is toDot and a dynamic import(); Graphviz (over a megabyte of WebAssembly) is the other chunk.
    expect(entry.contents.length).toBeLessThan(20_000);
    expect(entry.text).toMatch(/import\(/);
    expect(chunks.some((c) => c.contents.length > 1_000_000)).toBe(true);
  });
});
