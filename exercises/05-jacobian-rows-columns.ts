/**
 * Exercise 05-jacobian-rows-columns (chapter 5: Jacobians and the two modes).
 *
 * Build the Jacobian of f at x twice, with JAX's shape [...out.shape, ...x.shape]:
 *
 * - jacobianByRows: reverse mode. `const { value, pullback } = vjp(f)(x)`; pullback(u)[0] is uᵀJ,
 *   so u = e_i (1 at flat index i of the output, 0 elsewhere) gives row i, shaped like x.
 * - jacobianByColumns: forward mode. `jvp(f)([x], [v]).tangent` is J·v, so v = e_j (1 at flat
 *   index j of x) gives column j, shaped like the output.
 *
 * Then stack the rows (or columns) and reshape. Don't call jacrev or jacfwd: they are the answer.
 * Useful: tensor(values, shape, { dtype }), stack(tensors, axis), t.reshape(shape), t.size.
 *
 * Grade it: npm run exercise -- 05-jacobian-rows-columns
 */
import { jvp, stack, type Tensor, tensor, vjp } from "../src/index.ts";

export function jacobianByRows(f: (x: Tensor) => Tensor, x: Tensor): Tensor {
  throw new Error("not written yet");
}

export function jacobianByColumns(f: (x: Tensor) => Tensor, x: Tensor): Tensor {
  throw new Error("not written yet");
}
