import fc from "fast-check";
import { exported, holds } from "./assertions.ts";
import { type Exercise, Failure } from "./verdict.ts";

type TopologicalOrder = <T>(root: T, inputsOf: (node: T) => readonly T[]) => T[];

/** Nodes 0..n−1, node i's inputs among 0..i−1; the root is node n − 1. */
type Graph = number[][];

const graphArb: fc.Arbitrary<Graph> = fc
  .integer({ min: 1, max: 12 })
  .chain((n) =>
    fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        i === 0
          ? fc.constant([] as number[])
          : fc.uniqueArray(fc.integer({ min: 0, max: i - 1 }), { maxLength: 3 }),
      ),
    ),
  );

/** The nodes the root reaches, found independently (a plain search over the inputs). */
function reachable(graph: Graph): Set<number> {
  const seen = new Set<number>();
  const todo = [graph.length - 1];
  while (todo.length > 0) {
    const n = todo.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    todo.push(...graph[n]);
  }
  return seen;
}

function checkOrder(graph: Graph, order: unknown): void {
  if (!Array.isArray(order)) throw new Failure(`expected an array of nodes, got ${typeof order}`);
  const expected = reachable(graph);
  const position = new Map<number, number>();
  order.forEach((n, i) => {
    if (position.has(n)) throw new Failure(`node ${n} appears twice in ${JSON.stringify(order)}`);
    position.set(n, i);
  });
  for (const n of expected)
    if (!position.has(n))
      throw new Failure(`node ${n}, which the root depends on, is missing from ${JSON.stringify(order)}`);
  if (order.length !== expected.size)
    throw new Failure(`${JSON.stringify(order)} holds nodes the root does not depend on`);
  for (const n of expected) {
    for (const input of graph[n]) {
      if (position.get(input)! > position.get(n)!) {
        throw new Failure(`node ${input}, an input of node ${n}, comes after it in ${JSON.stringify(order)}`);
      }
    }
  }
  if (order.at(-1) !== graph.length - 1)
    throw new Failure(`the root (${graph.length - 1}) must come last in ${JSON.stringify(order)}`);
}

export const exercise: Exercise = {
  id: "02-topological-order",
  chapter: 2,
  title: "A topological order without recursion",
  teaches:
    "the first half of the engine: the order in which backward can visit a graph, and why it keeps its own stack",
  checks: [
    {
      name: "a diamond: d = f(b, c), b = g(a), c = h(a)",
      hint: "every node once, each after its inputs: a, then b and c, then d",
      run: (student) => {
        const order = exported<TopologicalOrder>(student, "topologicalOrder");
        const diamond: Graph = [[], [0], [0], [1, 2]];
        checkOrder(
          diamond,
          order(3, (n) => diamond[n]),
        );
      },
    },
    {
      name: "random graphs with shared inputs",
      hint: "mark nodes when you first meet them, and emit a node only after all its inputs are emitted",
      run: (student) => {
        const order = exported<TopologicalOrder>(student, "topologicalOrder");
        holds(
          graphArb,
          (graph) =>
            checkOrder(
              graph,
              order(graph.length - 1, (n) => graph[n]),
            ),
          60,
        );
      },
    },
    {
      name: "a chain 100,000 nodes deep",
      hint: "a recursive search needs one call frame per level and overflows the stack: keep an explicit stack of (node, next input) frames",
      run: (student) => {
        const order = exported<TopologicalOrder>(student, "topologicalOrder");
        const depth = 100_000;
        let result: unknown;
        try {
          result = order(depth - 1, (n: number) => (n === 0 ? [] : [n - 1]));
        } catch (error) {
          if (error instanceof RangeError) throw new Failure(`the call stack overflowed: ${error.message}`);
          throw error;
        }
        if (
          !Array.isArray(result) ||
          result.length !== depth ||
          result[0] !== 0 ||
          result[depth - 1] !== depth - 1
        ) {
          throw new Failure("expected the 100,000 nodes from 0 to 99,999 in order");
        }
      },
    },
  ],
};
