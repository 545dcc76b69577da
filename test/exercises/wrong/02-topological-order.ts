/** Planted wrong answer: a recursive depth-first search, right on small graphs, overflowing on deep ones. */
export function topologicalOrder<T>(root: T, inputsOf: (node: T) => readonly T[]): T[] {
  const order: T[] = [];
  const visited = new Set<T>();
  const visit = (node: T) => {
    if (visited.has(node)) return;
    visited.add(node);
    for (const input of inputsOf(node)) visit(input);
    order.push(node);
  };
  visit(root);
  return order;
}
