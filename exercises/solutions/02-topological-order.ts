/** Reference solution of exercises/02-topological-order.ts (the same walk as src/autograd/engine.ts). */
export function topologicalOrder<T>(root: T, inputsOf: (node: T) => readonly T[]): T[] {
  const order: T[] = [];
  const visited = new Set<T>([root]);
  // Each frame: a node and how many of its inputs have been pushed so far.
  const stack: [T, number][] = [[root, 0]];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    const inputs = inputsOf(frame[0]);
    if (frame[1] < inputs.length) {
      const input = inputs[frame[1]++];
      if (!visited.has(input)) {
        visited.add(input);
        stack.push([input, 0]);
      }
    } else {
      stack.pop();
      order.push(frame[0]);
    }
  }
  return order;
}
