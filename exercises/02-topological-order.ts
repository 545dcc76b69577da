/**
 * Exercise 02-topological-order (chapter 2: the chain rule on a graph).
 *
 * Order a graph for backward: return every node that `root` depends on (root included), each once,
 * every node after all of its inputs, so root comes last. `inputsOf(node)` lists a node's inputs.
 * Backward then walks this list from the end.
 *
 * The obvious recursive depth-first search overflows the call stack on a graph a hundred thousand
 * ops deep (a long training loop unrolled, say), and the grader builds one: keep your own stack.
 *
 * Grade it: npm run exercise -- 02-topological-order
 */
export function topologicalOrder<T>(root: T, inputsOf: (node: T) => readonly T[]): T[] {
  throw new Error("not written yet");
}
