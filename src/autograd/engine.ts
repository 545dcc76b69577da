/**
 * The reverse-mode engine: walk the graph from the output back to the leaves, in an order where
 * every tensor's gradient is complete before it is passed on to its inputs.
 *
 * 1. Topological sort by depth-first search with an explicit stack (a recursive one overflows
 *    the call stack on a graph 10,000 ops deep).
 * 2. Walk that order backwards: each tensor's op turns its gradient into its inputs' gradients
 *    (its vector-Jacobian product); a tensor used by several ops receives the sum of them.
 *
 * The VJPs are tensor ops like any other, so the walk can itself be recorded (createGraph) and
 * differentiated again: that is all that gradients of gradients take.
 */
import { formatShape, sameShape } from "../kernels/shape.ts";
import { enableGrad, noGrad, prefixed } from "./grad-mode.ts";
import { cast } from "./ops/elementwise.ts";
import { scoped } from "./scope.ts";
import { describe, expectTensor, Tensor } from "./tensor.ts";

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

export interface BackwardOptions {
  /**
   * Record the backward pass as a graph, so the gradients it produces can be differentiated again
   * (PyTorch's create_graph). Off by default: the pass then runs under noGrad and frees its scratch.
   */
  createGraph?: boolean;
}

/**
 * Backpropagate from `root`. The seed gradient is `grad`, or 1 when root is a one-element tensor.
 * Gradients are added to `.grad` of leaves that require grad (and of tensors that retainGrad()),
 * so calling backward twice adds twice.
 */
export function backward(root: Tensor, grad?: Tensor, options: BackwardOptions = {}): void {
  const stored: Tensor[] = [];
  runPass("backward", root, grad, null, options.createGraph ?? false, stored, (node, g) => {
    if (!node.isLeaf && !node.retainsGrad) return;
    // Ops like add pass a gradient on unchanged, so one object can reach several tensors (or be
    // the caller's own seed); each .grad gets a tensor of its own, safe to dispose alone.
    const own = g === grad || stored.includes(g) ? cast(g, g.dtype) : g;
    node.grad = node.grad === null ? own : node.grad.add(own);
    stored.push(node.grad);
  });
}

/**
 * d(root)/d(t) for each t of `wrt` (null where root does not depend on t), seeded with `grad` as
 * in backward. Nothing is accumulated into `.grad`: this is what the functional transforms
 * (transforms.ts) are built on, like torch.autograd.grad.
 */
export function gradients(
  root: Tensor,
  wrt: readonly Tensor[],
  grad?: Tensor,
  options: BackwardOptions = {},
): (Tensor | null)[] {
  const found = new Map<Tensor, Tensor>();
  if (!root.requiresGrad) return wrt.map(() => null);
  const targets = new Set(wrt);
  const kept: Tensor[] = [];
  runPass("gradients", root, grad, targets, options.createGraph ?? false, kept, (node, g) => {
    if (!targets.has(node)) return;
    found.set(node, g);
    kept.push(g);
  });
  return wrt.map((t) => found.get(t) ?? null);
}

function seedOf(caller: string, root: Tensor, grad: Tensor | undefined): Tensor {
  expectTensor(caller, "the output", root);
  // releaseGraph frees the output too: its size would read 0, "not a scalar".
  root.checkAlive(caller);
  if (grad !== undefined) expectTensor(caller, "the gradient", grad);
  if (!root.requiresGrad) {
    throw new Error(
      `${caller}: this tensor does not require grad: no input of the ops that made it had requiresGrad set (or it was made under noGrad)`,
    );
  }
  if (grad === undefined) {
    if (root.size !== 1) {
      throw new Error(
        `${caller}: output of shape ${formatShape(root.shape)} is not a scalar; pass the gradient of the loss with respect to it, e.g. y.backward(dy)`,
      );
    }
    return new Tensor(root.backend.fill(1, 1, root.dtype), root.shape, root.backend);
  }
  if (!sameShape(grad.shape, root.shape) || grad.dtype !== root.dtype) {
    throw new Error(
      `${caller}: gradient of shape ${formatShape(grad.shape)} (${grad.dtype}) does not match the output's ${formatShape(root.shape)} (${root.dtype})`,
    );
  }
  return grad;
}

/**
 * The reverse walk, for `caller` (what its errors are named by), seeded with `grad` or 1. Each
 * tensor's total gradient is handed to `visit` and then, through its op's VJP, to its inputs. With
 * `targets`, only inputs that lead to a target receive gradients. Without `createGraph` the walk
 * runs under noGrad and frees every tensor it made (the seed of 1 too) except `keep`; with it, the
 * walk is recorded like any forward computation.
 */
function runPass(
  caller: string,
  root: Tensor,
  grad: Tensor | undefined,
  targets: ReadonlySet<Tensor> | null,
  createGraph: boolean,
  keep: Tensor[],
  visit: (node: Tensor, g: Tensor) => void,
): void {
  const walk = () => {
    const order = topologicalOrder(root);
    const leadsToTarget = targets === null ? null : reaching(order, targets);
    // Gradients of this pass only; `.grad` accumulates across passes.
    const grads = new Map<Tensor, Tensor>([[root, seedOf(caller, root, grad)]]);
    // Outputs before inputs: by the time a node is reached, every consumer has added its share.
    for (const node of order.reverse()) {
      const g = grads.get(node);
      if (g === undefined) continue; // no rule gave it a gradient
      visit(node, g);
      if (node.backwardFn === null) continue;
      try {
        checkVersions(node);
        const rules = node.backwardFn(g, node);
        if (rules.length !== node.inputs.length) {
          throw new Error(
            `returned ${rules.length} gradients for ${node.inputs.length} inputs (use null for an input that gets none)`,
          );
        }
        for (let j = 0; j < rules.length; j++) {
          const input = node.inputs[j];
          const rule = rules[j];
          if (!input.requiresGrad || rule === null || (leadsToTarget !== null && !leadsToTarget.has(input)))
            continue;
          const gi = rule();
          if (!sameShape(gi.shape, input.shape)) {
            throw new Error(
              `gradient for input ${j} has shape ${formatShape(gi.shape)}, expected ${formatShape(input.shape)}`,
            );
          }
          const previous = grads.get(input);
          grads.set(input, previous === undefined ? gi : previous.add(gi));
        }
      } catch (e) {
        throw prefixed(`backward of ${node.op}${node.name === undefined ? "" : ` ('${node.name}')`}`, e);
      }
    }
  };
  if (createGraph) enableGrad(walk);
  // The pass makes many gradient terms that die within it: the scope frees all but `keep`.
  else
    scoped(
      () => noGrad(walk),
      () => keep,
    );
}

/** The tensors of `order` (inputs before outputs) from which some target can be reached. */
function reaching(order: readonly Tensor[], targets: ReadonlySet<Tensor>): Set<Tensor> {
  const reach = new Set<Tensor>();
  for (const node of order) {
    if (targets.has(node) || node.inputs.some((t) => reach.has(t))) reach.add(node);
  }
  return reach;
}

/** Refuse to backward through an op whose inputs were changed in place after it read them. */
function checkVersions(node: Tensor): void {
  if (node.version !== 0) throw changedInPlace(node, "its output", node, 0);
  for (let j = 0; j < node.inputs.length; j++) {
    const input = node.inputs[j];
    if (input.version !== node.savedVersions[j])
      throw changedInPlace(node, `input ${j}`, input, node.savedVersions[j]);
  }
}

function changedInPlace(node: Tensor, what: string, t: Tensor, saved: number): Error {
  return new Error(
    // No prefix here: the walk's catch adds "backward of <op> ('<name>'):" to every error it meets.
    "one of the tensors needed for gradient computation has been modified by an in-place operation: " +
      `${what}, ${describe(t)}, was changed by assign() after ${node.op} was computed (it is at version ${t.version}, ${node.op} used version ${saved}). ` +
      "Call backward() before changing it, or assign to a copy (t.detach()) and use that instead.",
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
