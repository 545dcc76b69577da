/**
 * The op explorer's little language: tensors written as JSON arrays (`a = [[1, 2], [3, 4]]`), an
 * expression over them (`sum(sigmoid(matmul(a, b)) * a)`) built from elbo's ops, and custom unary
 * ops defined by a forward and a backward expression, so a student can write a wrong backward and
 * watch gradcheck catch it. No DOM here: tests run it in Node.
 *
 *   expr  := term (("+" | "-") term)*
 *   term  := unary (("*" | "/") unary)*
 *   unary := "-" unary | power
 *   power := atom ("^" number)?
 *   atom  := number | name | name "(" expr ("," expr)* ")" | "(" expr ")"
 */
import { tensor } from "../src/autograd/create.ts";
import { applyOp } from "../src/autograd/op.ts";
import type { NestedArray, Tensor } from "../src/autograd/tensor.ts";

export type Expr =
  | { kind: "number"; value: number; text: string }
  | { kind: "name"; name: string; text: string }
  | { kind: "call"; fn: string; args: Expr[]; text: string };

type Token = { kind: "number" | "name" | "symbol"; text: string; at: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_]\w*)|([-+*/^(),]))/y;
  let at = 0;
  while (at < source.length) {
    if (/^\s*$/.test(source.slice(at))) break;
    pattern.lastIndex = at;
    const m = pattern.exec(source);
    if (m === null) {
      const where = source.slice(at).trimStart();
      throw new Error(
        `expression: cannot read "${where.slice(0, 10)}" at character ${source.length - where.length + 1}`,
      );
    }
    const start = pattern.lastIndex - m[0].trimStart().length;
    if (m[1] !== undefined) tokens.push({ kind: "number", text: m[1], at: start });
    else if (m[2] !== undefined) tokens.push({ kind: "name", text: m[2], at: start });
    else tokens.push({ kind: "symbol", text: m[3], at: start });
    at = pattern.lastIndex;
  }
  return tokens;
}

/** Parse an expression into a tree; errors name what was expected and where. */
export function parseExpression(source: string): Expr {
  const tokens = tokenize(source);
  let i = 0;
  const peek = () => tokens[i];
  const where = () => (i < tokens.length ? `at character ${tokens[i].at + 1}` : "at the end");
  const expect = (symbol: string) => {
    if (peek()?.text !== symbol) {
      throw new Error(
        `expression: expected "${symbol}" ${where()}${peek() ? `, found "${peek().text}"` : ""}`,
      );
    }
    i++;
  };
  const call = (fn: string, args: Expr[]): Expr => ({
    kind: "call",
    fn,
    args,
    text: ["add", "sub", "mul", "div"].includes(fn)
      ? `${args[0].text} ${{ add: "+", sub: "-", mul: "*", div: "/" }[fn as "add"]} ${args[1].text}`
      : `${fn}(${args.map((a) => a.text).join(", ")})`,
  });

  const atom = (): Expr => {
    const t = peek();
    if (t === undefined) throw new Error("expression: ended where a number, a name or ( was expected");
    i++;
    if (t.kind === "number") return { kind: "number", value: Number(t.text), text: t.text };
    if (t.kind === "name") {
      if (peek()?.text !== "(") return { kind: "name", name: t.text, text: t.text };
      i++;
      const args = [expr()];
      while (peek()?.text === ",") {
        i++;
        args.push(expr());
      }
      expect(")");
      return call(t.text, args);
    }
    if (t.text === "(") {
      const inner = expr();
      expect(")");
      return { ...inner, text: inner.kind === "call" ? `(${inner.text})` : inner.text };
    }
    throw new Error(`expression: unexpected "${t.text}" at character ${t.at + 1}`);
  };
  const power = (): Expr => {
    const base = atom();
    if (peek()?.text !== "^") return base;
    i++;
    const negative = peek()?.text === "-";
    if (negative) i++;
    const t = peek();
    if (t?.kind !== "number") throw new Error(`expression: ^ takes a number exponent ${where()}`);
    i++;
    const exponent: Expr = {
      kind: "number",
      value: (negative ? -1 : 1) * Number(t.text),
      text: `${negative ? "-" : ""}${t.text}`,
    };
    return { kind: "call", fn: "pow", args: [base, exponent], text: `${base.text}^${exponent.text}` };
  };
  const unary = (): Expr => {
    if (peek()?.text === "-") {
      i++;
      const operand = unary();
      return { kind: "call", fn: "neg", args: [operand], text: `-${operand.text}` };
    }
    return power();
  };
  const term = (): Expr => {
    let left = unary();
    while (peek()?.text === "*" || peek()?.text === "/") {
      const op = tokens[i++].text === "*" ? "mul" : "div";
      left = call(op, [left, unary()]);
    }
    return left;
  };
  const expr = (): Expr => {
    let left = term();
    while (peek()?.text === "+" || peek()?.text === "-") {
      const op = tokens[i++].text === "+" ? "add" : "sub";
      left = call(op, [left, term()]);
    }
    return left;
  };

  if (tokens.length === 0) throw new Error("expression: empty");
  const tree = expr();
  if (i < tokens.length)
    throw new Error(`expression: unexpected "${tokens[i].text}" at character ${tokens[i].at + 1}`);
  return tree;
}

/** The names an expression reads, in order of first use. */
export function namesIn(e: Expr): string[] {
  if (e.kind === "name") return [e.name];
  if (e.kind === "number") return [];
  return [...new Set(e.args.flatMap(namesIn))];
}

/** An op the language can call: elbo's ops by name, plus the custom ones. */
export type OpFn = (...args: Tensor[]) => Tensor;

const numberArg = (fn: string, e: Expr): number => {
  if (e.kind !== "number") throw new Error(`${fn}: its second argument must be a number, got "${e.text}"`);
  return e.value;
};

/** elbo's ops as the language names them, with how many tensor arguments each takes. */
const BUILTINS: Record<string, { arity: number; apply: (args: Tensor[], exprs: Expr[]) => Tensor }> = {
  add: { arity: 2, apply: ([a, b]) => a.add(b) },
  sub: { arity: 2, apply: ([a, b]) => a.sub(b) },
  mul: { arity: 2, apply: ([a, b]) => a.mul(b) },
  div: { arity: 2, apply: ([a, b]) => a.div(b) },
  matmul: { arity: 2, apply: ([a, b]) => a.matmul(b) },
  neg: { arity: 1, apply: ([a]) => a.neg() },
  exp: { arity: 1, apply: ([a]) => a.exp() },
  log: { arity: 1, apply: ([a]) => a.log() },
  sqrt: { arity: 1, apply: ([a]) => a.sqrt() },
  relu: { arity: 1, apply: ([a]) => a.relu() },
  sigmoid: { arity: 1, apply: ([a]) => a.sigmoid() },
  tanh: { arity: 1, apply: ([a]) => a.tanh() },
  softplus: { arity: 1, apply: ([a]) => a.softplus() },
  sum: { arity: 1, apply: ([a]) => a.sum() },
  mean: { arity: 1, apply: ([a]) => a.mean() },
  max: { arity: 1, apply: ([a]) => a.max() },
  transpose: { arity: 1, apply: ([a]) => a.transpose() },
  pow: { arity: 1, apply: ([a], exprs) => a.pow(numberArg("pow", exprs[1])) },
};

export const builtinNames = Object.keys(BUILTINS);

const NUMBER_OPS: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  neg: (a) => -a,
  pow: (a, b) => a ** b,
};

export interface Scope {
  /** The named tensors. */
  tensors: ReadonlyMap<string, Tensor>;
  /** Custom ops by name. */
  ops: ReadonlyMap<string, OpFn>;
  /** Called with every tensor an op makes and the text of its sub-expression (the explorer names and keeps them). */
  onNode?: (t: Tensor, text: string) => void;
}

/** Evaluate `e` with elbo's ops; numbers become tensors next to the first tensor argument. */
export function evaluate(e: Expr, scope: Scope): Tensor | number {
  if (e.kind === "number") return e.value;
  if (e.kind === "name") {
    const t = scope.tensors.get(e.name);
    if (t === undefined) {
      const known = [...scope.tensors.keys()].join(", ") || "none";
      throw new Error(`expression: no tensor named "${e.name}" (defined: ${known})`);
    }
    return t;
  }
  const builtin = BUILTINS[e.fn];
  const custom = scope.ops.get(e.fn);
  if (builtin === undefined && custom === undefined) {
    throw new Error(
      `expression: unknown function "${e.fn}": use one of ${[...builtinNames, ...scope.ops.keys()].join(", ")}`,
    );
  }
  const arity = builtin?.arity ?? 1;
  const expected = e.fn === "pow" ? 2 : arity;
  if (e.args.length !== expected) {
    throw new Error(`${e.fn}: takes ${expected} argument${expected === 1 ? "" : "s"}, got ${e.args.length}`);
  }
  const values = e.args.slice(0, arity).map((a) => evaluate(a, scope));
  const like = values.find((v): v is Tensor => typeof v !== "number");
  if (like === undefined) {
    // Arithmetic on numbers alone stays a number, as it would in the tensor op.
    const [x, y] = values as number[];
    const folded = NUMBER_OPS[e.fn]?.(x, e.fn === "pow" ? numberArg("pow", e.args[1]) : y);
    if (folded === undefined) throw new Error(`${e.fn}: needs at least one tensor argument in "${e.text}"`);
    return folded;
  }
  const args = values.map((v) => (typeof v === "number" ? tensor(v, { dtype: like.dtype }) : v));
  const out = builtin !== undefined ? builtin.apply(args, e.args) : custom!(...args);
  scope.onNode?.(out, e.text);
  return out;
}

/** Parse `name = [[1, 2], [3, 4]]` lines into float64 tensors that require grad. */
export function parseTensors(source: string): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  source.split("\n").forEach((line, n) => {
    if (line.trim() === "") return;
    const m = /^\s*([A-Za-z_]\w*)\s*=\s*(.+)$/.exec(line);
    if (m === null) throw new Error(`tensors, line ${n + 1}: write it as name = [numbers]`);
    let value: NestedArray;
    try {
      value = JSON.parse(m[2]) as NestedArray;
    } catch {
      throw new Error(`tensors, line ${n + 1}: "${m[2]}" is not a number or a nested array of numbers`);
    }
    const t = tensor(value, { dtype: "float64", requiresGrad: true });
    t.name = m[1];
    tensors.set(m[1], t);
  });
  return tensors;
}

/**
 * A custom unary op from two expressions: `forward` over x, and `backward` over x, out and g (the
 * gradient arriving at out), which must give the gradient at x. It is made with applyOp, the one
 * way every op of elbo is written, so gradcheck and gradgradcheck treat it like any other.
 */
export function defineOp(
  name: string,
  forward: Expr,
  backward: Expr,
  ops: ReadonlyMap<string, OpFn> = new Map(),
): OpFn {
  const asTensor = (v: Tensor | number, like: Tensor) => (typeof v === "number" ? like.mul(0).add(v) : v);
  return (x: Tensor) =>
    applyOp(
      name,
      [x],
      () => asTensor(evaluate(forward, { tensors: new Map([["x", x]]), ops }), x),
      (g, out) => [
        () =>
          asTensor(
            evaluate(backward, {
              tensors: new Map([
                ["x", x],
                ["out", out],
                ["g", g],
              ]),
              ops,
            }),
            x,
          ),
      ],
    );
}
