/**
 * Whether ops record a graph: on by default, off inside noGrad (evaluation, optimizer updates, the
 * backward pass itself). A leaf module that imports nothing, so that every part of autograd can
 * ask without joining the import cycle between tensors and their ops.
 */

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run `fn` with graph recording switched on or off, restoring the previous state afterwards. */
function withGrad<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/**
 * Run `fn` without recording a graph: the results have no history and require no grad.
 * For evaluation, optimizer updates, and the backward pass itself.
 */
export function noGrad<T>(fn: () => T): T {
  return withGrad(false, fn);
}

/** Run `fn` recording a graph even inside noGrad (what the functional transforms need). */
export function enableGrad<T>(fn: () => T): T {
  return withGrad(true, fn);
}

/** `e` with its message prefixed by `name:` (once): how errors name the op they come from. */
export function prefixed(name: string, e: unknown): unknown {
  if (!(e instanceof Error) || e.message.startsWith(`${name}:`)) return e;
  return new Error(`${name}: ${e.message}`, { cause: e });
}
