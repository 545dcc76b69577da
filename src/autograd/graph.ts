/**
 * toDot: the graph that produced a tensor, as Graphviz DOT (render with `dot -Tsvg graph.dot`).
 * Each tensor is a box showing the op that made it, its shape, and a summary of its value and
 * gradient; arrows run from inputs to outputs, the direction of the forward pass (backward walks
 * them the other way).
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

function escapeLabel(s: string): string {
  return s.replace(/[\\"{}|<>]/g, (c) => `\\${c}`);
}

/** The graph behind `root` in DOT. Tensors given a `.name` are labelled with it. */
export function toDot(root: Tensor): string {
  const ids = new Map<Tensor, string>();
  const lines = [
    "digraph elbo {",
    "  rankdir=LR;",
    '  node [shape=record, fontname="Helvetica", fontsize=10];',
  ];
  // Iterative walk over every input (whether it requires grad or not), so constants show too.
  const stack: Tensor[] = [root];
  ids.set(root, "t0");
  while (stack.length > 0) {
    const t = stack.pop()!;
    for (const input of t.inputs) {
      if (!ids.has(input)) {
        ids.set(input, `t${ids.size}`);
        stack.push(input);
      }
    }
  }
  for (const [t, id] of ids) {
    const title = t.name !== undefined ? `${t.name} (${t.op})` : t.op;
    const fields = [title, `${formatShape(t.shape)} ${t.dtype}`, `value: ${summarize(t)}`];
    if (t.grad !== null || t.isLeaf || t.retainsGrad) {
      if (t.requiresGrad) fields.push(`grad: ${summarize(t.grad)}`);
    } else if (t.requiresGrad) {
      fields.push("grad: not kept (retainGrad() keeps it)");
    }
    const style = t.isLeaf
      ? t.requiresGrad
        ? ', style=filled, fillcolor="#dbeafe"'
        : ', style=filled, fillcolor="#f3f4f6"'
      : "";
    lines.push(`  ${id} [label="{${fields.map(escapeLabel).join("|")}}"${style}];`);
  }
  for (const [t, id] of ids) {
    for (const input of t.inputs) lines.push(`  ${ids.get(input)} -> ${id};`);
  }
  lines.push("}");
  return lines.join("\n");
}
