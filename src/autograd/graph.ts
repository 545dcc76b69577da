/**
 * Drawing the graph that produced a tensor, for a student to read.
 *
 * toDot gives Graphviz DOT text; toSvg renders it to an SVG picture with Graphviz compiled to
 * WebAssembly (@viz-js/viz), so no system install is needed and it works in a page. Each tensor
 * is a small box: the op that made it (and its name, if it has one), its shape, and summaries of
 * its value and gradient. Arrows run from inputs to outputs, top to bottom, the direction of the
 * forward pass; backward walks them the other way. An op's inputs are drawn left to right in
 * argument order, so sub(a, b) shows a on the left.
 */
import type { TypedArray } from "../kernels/backend.ts";
import { formatShape } from "../kernels/shape.ts";
import type { Tensor } from "./tensor.ts";

/** A few numbers describing a tensor's values: all of them when small, else mean and range. */
export function summarize(t: Tensor | null): string {
  if (t === null) return "—";
  let data: TypedArray;
  try {
    data = t.dataSync();
  } catch {
    return `(on ${t.backend.name}, not read)`;
  }
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(4));
  if (data.length <= 4) return `[${Array.from(data, fmt).join(", ")}]`;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of data) {
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return `mean ${fmt(sum / data.length)} in [${fmt(min)}, ${fmt(max)}]`;
}

/** Every tensor `root` was computed from (constants too), root first, each with a DOT id. */
function collect(root: Tensor): Map<Tensor, string> {
  const ids = new Map<Tensor, string>([[root, "t0"]]);
  // An explicit stack, not recursion: a deep graph would overflow the call stack.
  const stack: Tensor[] = [root];
  while (stack.length > 0) {
    const t = stack.pop()!;
    for (const input of t.inputs) {
      if (!ids.has(input)) {
        ids.set(input, `t${ids.size}`);
        stack.push(input);
      }
    }
  }
  return ids;
}

/** The lines of a tensor's box: what it is, its shape, its value, and its gradient when it has one. */
function labelLines(t: Tensor): string[] {
  const what = t.isLeaf ? (t.requiresGrad ? "leaf" : "const") : t.op;
  const lines = [t.name !== undefined ? `${t.name} · ${what}` : what];
  lines.push(t.dtype === "float32" ? formatShape(t.shape) : `${formatShape(t.shape)} ${t.dtype}`);
  lines.push(`value ${summarize(t)}`);
  if (t.requiresGrad) {
    const kept = t.grad !== null || t.isLeaf || t.retainsGrad;
    lines.push(kept ? `grad ${summarize(t.grad)}` : "grad not kept");
  }
  return lines;
}

function isScalarConstant(t: Tensor): boolean {
  return t.isLeaf && !t.requiresGrad && t.size === 1 && t.name === undefined;
}

/** A DOT string literal: quotes and backslashes escaped, lines left-aligned (\l ends each one). */
function dotString(lines: readonly string[]): string {
  return `"${lines.map((l) => `${l.replace(/[\\"]/g, (c) => `\\${c}`)}\\l`).join("")}"`;
}

/**
 * The graph behind `root` in DOT, laid out top to bottom. Parameters (leaves that require grad)
 * are blue, constants grey (a lone number as just its value), the root outlined in bold. Tensors given a `.name` show it.
 */
export function toDot(root: Tensor): string {
  const ids = collect(root);
  const lines = [
    "digraph elbo {",
    "  rankdir=TB; ordering=in; nodesep=0.25; ranksep=0.3;",
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=10, margin="0.08,0.04"];',
    '  edge [arrowsize=0.6, color="#6b7280"];',
  ];
  for (const [t, id] of ids) {
    if (isScalarConstant(t)) {
      // A number operand (the 2 of x.mul(2)) is drawn as just that number.
      lines.push(`  ${id} [label=${dotString([summarize(t).slice(1, -1)])}, shape=plaintext, style=""];`);
      continue;
    }
    const fill = t.isLeaf ? (t.requiresGrad ? "#dbeafe" : "#f3f4f6") : "#ffffff";
    const border = t === root ? ", penwidth=2" : "";
    lines.push(`  ${id} [label=${dotString(labelLines(t))}, fillcolor="${fill}"${border}];`);
  }
  for (const [t, id] of ids) {
    for (const input of t.inputs) lines.push(`  ${ids.get(input)} -> ${id};`);
  }
  lines.push("}");
  return lines.join("\n");
}

/** Graphviz, loaded on the first drawing only: programs that never draw never load it. */
let graphviz: Promise<{ renderString(dot: string, options: { format: "svg" }): string }> | undefined;

/** Render DOT text to SVG with Graphviz in WebAssembly. */
export async function dotToSvg(dot: string): Promise<string> {
  graphviz ??= loadGraphviz();
  return (await graphviz).renderString(dot, { format: "svg" });
}

/**
 * @viz-js/viz is an optional peer dependency of the package. The import sits in a try so that a
 * bundler leaves it out, rather than failing, where it is not installed; then toSvg says so.
 */
async function loadGraphviz(): Promise<{ renderString(dot: string, options: { format: "svg" }): string }> {
  try {
    const viz = await import("@viz-js/viz");
    return await viz.instance();
  } catch (error) {
    graphviz = undefined;
    throw new Error(
      `toSvg: Graphviz (the optional package @viz-js/viz) could not be loaded: npm install @viz-js/viz (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** The graph behind `root` as an SVG picture (toDot rendered by Graphviz in WebAssembly). */
export function toSvg(root: Tensor): Promise<string> {
  return dotToSvg(toDot(root));
}
