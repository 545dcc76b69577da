/**
 * Scopes: free every tensor a computation made except the ones it hands back.
 *
 * Users never need this: tensors they drop are freed by the garbage collector, and a training loop
 * calls releaseGraph() once per step. But the collector only feels JavaScript's own memory, not a
 * WebAssembly heap or a GPU's, and the backward pass and the optimizer make many short-lived
 * tensors (each op's gradient terms, Adam's intermediate sums) that nothing else ever sees. The
 * engine and the optimizers run their work in a scope, so those buffers are reused at once.
 */
import type { TypedArray } from "../kernels/backend.ts";
import { noGrad } from "./grad-mode.ts";
import { describeValue, Tensor } from "./tensor.ts";

let active: Tensor[] | null = null;

/** Called for every new tensor: remember it in the innermost scope, if one is open. */
export function recordInScope(t: Tensor): void {
  active?.push(t);
}

/**
 * Run `fn` and return what it returned with the tensors it created, which no scope records: the
 * caller owns them (scoped frees them; an op adopts its forward's result and frees the rest).
 */
export function collect<T>(fn: () => T): { result: T; created: Tensor[] } {
  const outer = active;
  const created: Tensor[] = [];
  active = created;
  try {
    return { result: fn(), created };
  } finally {
    active = outer;
  }
}

/**
 * Run `fn`; afterwards dispose every tensor it created except those `keep(result)` names, which are
 * handed to the enclosing scope (if any). Only for synchronous work.
 */
export function scoped<T>(fn: () => T, keep: (result: T) => Iterable<Tensor | null | undefined>): T {
  if (typeof fn !== "function" || typeof keep !== "function")
    throw new Error(
      "scoped: takes a function to run and a function naming the tensors of its result to keep",
    );
  const { result, created } = collect(fn);
  const kept = new Set<Tensor>();
  for (const t of keep(result)) if (t) kept.add(t);
  for (const t of created) if (!kept.has(t)) t.dispose();
  // One at a time: a spread of many tensors into push() would overflow the call stack.
  for (const t of kept) active?.push(t);
  return result;
}

/**
 * Run `fn` without building a graph, read the values of the tensors it returns, and free every
 * tensor it made: the shape of an evaluation step, on any backend.
 */
export async function valuesOf<const T extends readonly Tensor[]>(
  fn: () => T,
): Promise<{ [K in keyof T]: TypedArray }> {
  const tensorsOf = (r: unknown): Tensor[] =>
    Array.isArray(r) ? r.filter((t): t is Tensor => t instanceof Tensor) : [];
  const results = scoped(() => noGrad(fn), tensorsOf);
  // From JavaScript, fn may return anything: only a list of tensors can be read (the rest is freed).
  if (!Array.isArray(results) || tensorsOf(results).length !== results.length) {
    for (const t of tensorsOf(results)) t.dispose();
    throw new Error(`valuesOf: fn must return an array of tensors, got ${describeValue(results)}`);
  }
  try {
    return (await Promise.all(results.map((t) => t.data()))) as { [K in keyof T]: TypedArray };
  } finally {
    for (const t of results) t.dispose();
  }
}
