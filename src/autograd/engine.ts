/**
 * The reverse-mode engine: walk the graph from the output back to the leaves, in an order where
 * every tensor's gradient is complete before it is passed on to its inputs.
 *
 * 1. Topological sort by depth-first search with an explicit stack (a recursive one overflows
 *    the call stack on a graph 10,000 ops deep).
 * 2. Walk that order backwards: each tensor's op turns its gradient into its inputs' gradients
 *    (its vector-Jacobian product); a tensor used by several ops receives the sum of them.
 */
import { formatShape, sameShape } from "../kernels/shape.ts";
import { scoped } from "./scope.ts";
import { Tensor } from "./tensor.ts";

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Run `fn` without recording a graph: the results have no history and require no grad.
 * For evaluation, optimizer updates, and the backward pass itself.
 */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** The tensors that `root` depends on through ops that need gradients, inputs before outputs. */
export function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Each frame is a tensor and how many of its inputs have been pushed so far.
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    const [node, next] = frame;
    if (next < node.inputs.length) {
      frame[1]++;
      const input = node.inputs[next];
      if (input.requiresGrad && !visited.has(input)) {
        visited.add(input);
        stack.push([input, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order;
}

/**
 * Backpropagate from `root`. The seed gradient is `grad`, or 1 when root is a one-element tensor.
 * Gradients are added to `.grad` of leaves that require grad (and of tensors that retainGrad()),
 * so calling backward twice adds twice.
 */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.requiresGrad) {
    throw new Error(
      "backward: this tensor does not require grad: no input of the ops that made it had requiresGrad set (or it was made under noGrad)",
    );
  }
  let seed: Tensor;
  if (grad === undefined) {
    if (root.size !== 1) {
      throw new Error(
        `backward: output of shape ${formatShape(root.shape)} is not a scalar; pass the gradient of the loss with respect to it, e.g. y.backward(dy)`,
      );
    }
    seed = new Tensor(root.backend.fill(1, 1, root.dtype), root.shape, root.backend);
  } else {
    if (!sameShape(grad.shape, root.shape) || grad.dtype !== root.dtype) {
      throw new Error(
        `backward: gradient of shape ${formatShape(grad.shape)} (${grad.dtype}) does not match the output's ${formatShape(root.shape)} (${root.dtype})`,
      );
    }
    seed = grad;
  }

  // The pass makes many gradient terms that die within it: the scope frees all but the `.grad`s.
  const stored: Tensor[] = [];
  scoped(
    () =>
      noGrad(() => {
        // Gradients of this pass only; `.grad` accumulates across passes.
        const grads = new Map<Tensor, Tensor>([[root, seed]]);
        const order = topologicalOrder(root);
        for (let i = order.length - 1; i >= 0; i--) {
          const node = order[i];
          const g = grads.get(node);
          if (g === undefined) continue;
          grads.delete(node); // every consumer has contributed: free it as soon as it is passed on
          if (node.isLeaf || node.retainsGrad) {
            // Ops like add pass a gradient on unchanged, so one object can reach several tensors (or be
            // the caller's own seed); each .grad gets a tensor of its own, safe to dispose alone.
            const own = g === grad || stored.includes(g) ? g.detach() : g;
            node.grad = node.grad === null ? own : node.grad.add(own);
            stored.push(node.grad);
          }
          if (node.backwardFn === null) continue;
          const needs = node.inputs.map((t) => t.requiresGrad);
          const inputGrads = node.backwardFn(g, needs);
          if (inputGrads.length !== node.inputs.length) {
            throw new Error(
              `backward of ${node.op}: returned ${inputGrads.length} gradients for ${node.inputs.length} inputs (use null for an input that gets none)`,
            );
          }
          node.inputs.forEach((input, j) => {
            const gi = inputGrads[j];
            if (!needs[j] || gi === null || gi === undefined) return;
            if (!sameShape(gi.shape, input.shape)) {
              throw new Error(
                `backward of ${node.op}: gradient for input ${j} has shape ${formatShape(gi.shape)}, expected ${formatShape(input.shape)}`,
              );
            }
            const previous = grads.get(input);
            grads.set(input, previous === undefined ? gi : previous.add(gi));
          });
        }
      }),
    () => stored,
  );
}

/**
 * Free the storage of every intermediate tensor that `root` was computed from (and of root), now,
 * rather than when the garbage collector gets to them. Leaves (parameters, data) and their `.grad`
 * are kept. A training loop calls this once per step, after the optimizer, so that a backend can
 * reuse the same buffers every step; the released tensors must not be used afterwards.
 */
export function releaseGraph(root: Tensor): void {
  for (const node of topologicalOrder(root)) {
    if (!node.isLeaf) node.dispose();
  }
}
