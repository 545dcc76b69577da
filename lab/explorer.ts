/**
 * The op explorer panel: evaluate an expression over named tensors on the cpu backend (in the
 * page's own thread: the tensors are tiny), draw its graph with every node's value and gradient
 * (the library's toSvg: toDot laid out by Graphviz compiled to WebAssembly), and check its first
 * and second derivatives against finite differences (gradcheck, gradgradcheck), custom op included.
 */
import { gradcheck, gradgradcheck } from "../src/autograd/gradcheck.ts";
import { toSvg } from "../src/autograd/graph.ts";
import type { Tensor } from "../src/autograd/tensor.ts";
import {
  defineOp,
  type Expr,
  evaluate,
  namesIn,
  type OpFn,
  parseExpression,
  parseTensors,
} from "./expression.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const value = (id: string) => $<HTMLInputElement | HTMLTextAreaElement>(id).value;

interface Parsed {
  tensors: Map<string, Tensor>;
  ops: Map<string, OpFn>;
  expr: Expr;
}

function parseAll(): Parsed {
  const name = value("opName").trim();
  if (!/^[A-Za-z_]\w*$/.test(name)) throw new Error(`custom op: "${name}" is not a name`);
  const ops = new Map<string, OpFn>([
    [name, defineOp(name, parseExpression(value("opForward")), parseExpression(value("opBackward")))],
  ]);
  return { tensors: parseTensors(value("tensors")), ops, expr: parseExpression(value("expression")) };
}

/** Evaluate, backpropagate from the result (through Σ when it is not a scalar) and draw the graph. */
async function evaluateAndDraw(): Promise<void> {
  const { tensors, ops, expr } = parseAll();
  const out = evaluate(expr, {
    tensors,
    ops,
    onNode: (t, text) => {
      t.name = text;
      if (t.requiresGrad) t.retainGrad();
    },
  });
  if (typeof out === "number") throw new Error("expression: it is a number; use at least one tensor");
  const root = out.size === 1 ? out : out.sum();
  if (root !== out) root.name = "L = sum(result)";
  if (root.requiresGrad) root.backward();
  // Graphviz's own SVG text, of the library's own graph: parsed as markup, never as script.
  const svg = new DOMParser().parseFromString(await toSvg(root), "image/svg+xml").documentElement;
  $("graph").replaceChildren(svg);
}

/** gradcheck (or gradgradcheck) of the expression with respect to every tensor it reads. */
function check(order: 1 | 2): void {
  const { tensors, ops, expr } = parseAll();
  const names = namesIn(expr).filter((n) => tensors.has(n));
  const report = (order === 1 ? gradcheck : gradgradcheck)(
    (...xs) => {
      const out = evaluate(expr, { tensors: new Map(names.map((n, i) => [n, xs[i]])), ops });
      if (typeof out === "number") throw new Error("expression: it is a number; use at least one tensor");
      return out;
    },
    names.map((n) => tensors.get(n)!),
  );
  const result = $("gradcheckResult");
  result.className = report.passed ? "pass" : "fail";
  result.dataset.passed = String(report.passed);
  const lines = report.inputs.map(
    (r) =>
      `${names[r.input]}: ${r.passed ? "ok" : "WRONG"}  max abs error ${r.maxAbsError.toExponential(2)}  (worst at [${r.worstIndex.join(", ")}]: backward ${r.analytic.toPrecision(6)}, finite differences ${r.numeric.toPrecision(6)})`,
  );
  const what = order === 1 ? "gradcheck" : "gradgradcheck";
  result.textContent = `${what} ${report.passed ? "passed" : "FAILED"}\n${lines.join("\n")}`;
}

function guarded(fn: () => void | Promise<void>): () => void {
  return () => {
    const result = $("gradcheckResult");
    Promise.resolve()
      .then(fn)
      .catch((error: unknown) => {
        result.className = "fail";
        delete result.dataset.passed;
        result.textContent = error instanceof Error ? error.message : String(error);
      });
  };
}

export function setUpExplorer(): void {
  $("evaluate").onclick = guarded(evaluateAndDraw);
  $("gradcheck").onclick = guarded(() => check(1));
  $("gradgradcheck").onclick = guarded(() => check(2));
  $("opBreak").onclick = () => {
    $<HTMLInputElement>("opBackward").value = "x * g";
    guarded(evaluateAndDraw)();
  };
  guarded(evaluateAndDraw)();
}
