/**
 * How to write an op: the one way every op of elbo is written, and yours too.
 *
 * An op is a name, its input tensors, a forward and a vector-Jacobian product (VJP):
 *
 *   import { applyOp, type Tensor } from "elbojs";
 *
 *   // cube(x) = x³
 *   export function cube(x: Tensor): Tensor {
 *     return applyOp("cube", [x],
 *       () => x.mul(x).mul(x),                  // forward: any ops (or a backend kernel)
 *       (g) => [() => g.mul(x.mul(x)).mul(3)],  // d x³/dx = 3x²: one thunk per input
 *     );
 *   }
 *   // check it: gradcheck(cube, [x]) and gradgradcheck(cube, [x]) with a float64 x
 *
 * - The forward runs without recording a graph; whatever scratch tensors it makes are freed, and
 *   its result becomes the op's output, owned like any other tensor (inside and outside scoped()).
 * - The VJP gets g = dL/d(out) and the output itself, and returns, for each input in order, a
 *   thunk computing dL/d(input) (with the input's shape), or null where the op has no gradient
 *   (integer indices, targets). Only the thunks of inputs that need a gradient run.
 * - Write the VJP with tensor ops, never backend storage: then it is itself differentiable, and
 *   `backward({ createGraph: true })`, `grad(grad(f))` and `hessian` work through your op.
 *   Masks that route a gradient (`equal`, `notEqual`, `greater` in ops/compare.ts, `zerosLike`)
 *   are constants: their derivative is zero, so they belong in a VJP as they are.
 * - An op records the versions of its inputs; an input or output changed with `assign` before
 *   backward makes backward throw rather than compute a gradient from the new values. (Every
 *   input is checked, not only those the VJP reads: stricter than PyTorch, never wrong.)
 * - Errors thrown by the forward or the VJP are prefixed with the op's name.
 */
import { isGradEnabled, noGrad, prefixed } from "./grad-mode.ts";
import { collect, recordInScope } from "./scope.ts";
import { expectTensor, recordOp, Tensor } from "./tensor.ts";

/** One entry per input: a thunk giving dL/d(input), or null where no gradient flows to it. */
export type Gradients = readonly ((() => Tensor) | null)[];

/** An op's vector-Jacobian product: from g = dL/d(out) (and `out`), the gradients of its inputs. */
export type Vjp = (g: Tensor, out: Tensor) => Gradients;

/** Run `forward` and record `name`, `inputs` and `vjp` on its result when a gradient can flow. */
export function applyOp(name: string, inputs: readonly Tensor[], forward: () => Tensor, vjp: Vjp): Tensor {
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new Error(`${name}: an op needs at least one input tensor`);
  inputs.forEach((t, i) => {
    expectTensor(name, `input ${i}`, t);
    // A freed input (releaseGraph, dispose) would be read as if it held values.
    t.checkAlive(name);
  });
  let collected: { result: Tensor; created: Tensor[] };
  try {
    collected = collect(() => noGrad(forward));
  } catch (e) {
    throw prefixed(name, e);
  }
  const { result, created } = collected;
  if (!(result instanceof Tensor)) throw new Error(`${name}: forward must return a Tensor`);
  let madeByForward = false;
  for (const t of created) {
    if (t !== result) t.dispose();
    else {
      madeByForward = true;
      recordInScope(t); // the result joins the caller's scope, as any new tensor would
    }
  }
  // The output is the result the forward made; one it was handed (an input, say) is copied.
  const out = madeByForward
    ? result
    : new Tensor(result.backend.copy(result.storage), result.shape, result.backend);
  const tracked = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  recordOp(out, name, tracked ? inputs : null, vjp);
  return out;
}
