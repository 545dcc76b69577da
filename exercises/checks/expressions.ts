/**
 * Random scalar expressions for the graders of Value (02) and Dual (05): a few leaves, then steps
 * that each combine earlier nodes (add, mul, tanh, or a constant added or multiplied), so that
 * nodes are reused and the graph is a DAG, not a tree. One expression is built twice, once with the
 * student's numbers and once with elbo's tensors, and the two are compared.
 */
import fc from "fast-check";
import type { Tensor } from "../../src/index.ts";

export type Step =
  | { op: "add" | "mul"; a: number; b: number }
  | { op: "tanh"; a: number }
  | { op: "addConstant" | "mulConstant"; a: number; c: number };

export interface Expression {
  leaves: number[];
  steps: Step[];
}

/** How to compute each kind of step on some kind of number. */
export interface Arithmetic<T> {
  add(a: T, b: T): T;
  mul(a: T, b: T): T;
  tanh(a: T): T;
  addConstant(a: T, c: number): T;
  mulConstant(a: T, c: number): T;
}

function stepArb(available: number): fc.Arbitrary<Step> {
  const node = fc.integer({ min: 0, max: available - 1 });
  const constant = fc.double({ min: -2, max: 2, noNaN: true });
  return fc.oneof(
    fc.record({ op: fc.constantFrom("add" as const, "mul" as const), a: node, b: node }),
    fc.record({ op: fc.constant("tanh" as const), a: node }),
    fc.record({ op: fc.constantFrom("addConstant" as const, "mulConstant" as const), a: node, c: constant }),
  );
}

/** An expression over `minLeaves`..4 leaves with 1..10 steps; its result is the last step. */
export function expressionArb(minLeaves = 1, maxLeaves = 4): fc.Arbitrary<Expression> {
  return fc
    .tuple(
      fc.array(fc.double({ min: -1.5, max: 1.5, noNaN: true }), {
        minLength: minLeaves,
        maxLength: maxLeaves,
      }),
      fc.integer({ min: 1, max: 10 }),
    )
    .chain(([leaves, count]) =>
      fc
        .tuple(...Array.from({ length: count }, (_, i) => stepArb(leaves.length + i)))
        .map((steps) => ({ leaves, steps })),
    );
}

/** Every node of `e` computed with `arithmetic` from `leaves`: the leaves, then one per step. */
export function evaluate<T>(e: Expression, leaves: readonly T[], arithmetic: Arithmetic<T>): T[] {
  const nodes = [...leaves];
  for (const s of e.steps) {
    if (s.op === "add" || s.op === "mul") nodes.push(arithmetic[s.op](nodes[s.a], nodes[s.b]));
    else if (s.op === "tanh") nodes.push(arithmetic.tanh(nodes[s.a]));
    else if (s.op === "addConstant" || s.op === "mulConstant") nodes.push(arithmetic[s.op](nodes[s.a], s.c));
  }
  return nodes;
}

/** The same steps on elbo's tensors: the reference every student's arithmetic is compared with. */
export const tensorArithmetic: Arithmetic<Tensor> = {
  add: (a, b) => a.add(b),
  mul: (a, b) => a.mul(b),
  tanh: (a) => a.tanh(),
  addConstant: (a, c) => a.add(c),
  mulConstant: (a, c) => a.mul(c),
};
