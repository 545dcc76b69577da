/**
 * Drawing the graph that produced a tensor, for a student to read.
 *
 * toDot gives Graphviz DOT text; toSvg renders it to an SVG picture with Graphviz compiled to
 * WebAssembly (the optional package @viz-js/viz), so no system Graphviz is needed and it works in
 * a page. Each tensor is a small box: the op that made it (and its name, if it has one), its shape,
 * and summaries of its value and gradient, in lines short enough that a graph keeps a readable size. Arrows run from inputs to outputs, top to bottom, the direction of the
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
  const head = t.name !== undefined ? `${t.name} · ${what}` : what;
  const shape = t.dtype === "float32" ? formatShape(t.shape) : `${formatShape(t.shape)} ${t.dtype}`;
  const values = [`value ${summarize(t)}`];
  if (t.requiresGrad) {
    const kept = t.grad !== null || t.isLeaf || t.retainsGrad;
    values.push(kept ? `grad ${summarize(t.grad)}` : "grad not kept");
  }
  const lines = values.flatMap(wrapped);
  // The shape shares the first line where that does not make the box wider.
  const first = `${head} ${shape}`;
  return first.length <= Math.max(...lines.map((l) => l.length))
    ? [first, ...lines]
    : [head, shape, ...lines];
}

/** The longest line a box holds before it is wrapped: boxes stay narrow, so a graph stays readable at its own size. */
const LINE_LENGTH = 20;

/**
 * `line` broken where it is longer than LINE_LENGTH: a summary before its range (" in [min, max]",
 * kept whole), a list of values after the last comma that fits; continuations are indented by two
 * spaces. Any other line (a long name) is left whole: its box grows to fit it.
 */
function wrapped(line: string): string[] {
  if (line.length <= LINE_LENGTH) return [line];
  const range = line.indexOf(" in [");
  if (range > 0) return [line.slice(0, range), `  ${line.slice(range + 1)}`];
  if (!/^(value|grad) \[/.test(line)) return [line];
  const lines: string[] = [];
  let rest = line;
  while (rest.length > LINE_LENGTH) {
    const commas = [...rest.matchAll(/, /g)].map((m) => m.index + 1);
    const at = commas.filter((c) => c <= LINE_LENGTH).at(-1) ?? commas[0];
    if (at === undefined) break;
    lines.push(rest.slice(0, at));
    rest = `  ${rest.slice(at + 1)}`;
  }
  lines.push(rest);
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
    "  rankdir=TB; ordering=in; nodesep=0.15; ranksep=0.2;",
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Courier", fontsize=10, margin="0.06,0.03"];',
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

/**
 * The fonts the picture names for its text. Graphviz in WebAssembly cannot see the fonts of the
 * machine that shows the picture: it sizes each box from metrics it has built in for a few fonts.
 * Courier's are the simplest (every character 0.6 em wide; it counts bytes, so a letter beyond
 * ASCII gets more room), and the common monospaced fonts share them (Courier New, Liberation Mono,
 * Cousine: 0.6 em; DejaVu Sans Mono, Menlo: 0.602 em, within a box's margin; Consolas: 0.55 em).
 * So toDot asks Graphviz for Courier and the picture names those fonts, and the text fits its box
 * wherever it is drawn, unlike Helvetica's metrics, which only Helvetica and Arial's clones share.
 */
const GRAPH_FONTS =
  "Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', 'Courier New', Courier, monospace";

/** Render DOT text to SVG with Graphviz in WebAssembly; text measured as Courier is drawn in GRAPH_FONTS. */
export async function dotToSvg(dot: string): Promise<string> {
  graphviz ??= loadGraphviz();
  const svg = (await graphviz).renderString(dot, { format: "svg" });
  return svg.replaceAll('font-family="Courier,monospace"', `font-family="${GRAPH_FONTS}"`);
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
      `toSvg: Graphviz (the optional package @viz-js/viz) could not be loaded: npm install @viz-js/viz@3 (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** The graph behind `root` as an SVG picture (toDot rendered by Graphviz in WebAssembly). */
export function toSvg(root: Tensor): Promise<string> {
  return dotToSvg(toDot(root));
}
