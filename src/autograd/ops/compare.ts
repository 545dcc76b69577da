/**
 * Comparison masks and signs: 1 where a comparison holds, else 0 (in the operands' dtype, with
 * NumPy broadcasting). Their derivative is zero wherever it exists, so they are constants of the
 * graph, never tracked: backward rules and `where` use them to route gradients. As in IEEE 754,
 * every comparison with NaN is false.
 */
import { noGrad } from "../engine.ts";
import { type Operand, Tensor, toTensor } from "../tensor.ts";
import { add, checkPair, step, sub } from "./elementwise.ts";

/** 1 where a > b: a − b > 0 exactly (IEEE subtraction of a > b never rounds to 0 or below). */
export function greater(a: Tensor, b: Operand): Tensor {
  return noGrad(() => step(sub(a, b)));
}

/** 1 where a < b. */
export function less(a: Tensor, b: Operand): Tensor {
  return noGrad(() => step(sub(toTensor(b, a), a)));
}

/** 1 where a == b (so never where either is NaN). */
export function equal(a: Tensor, b: Operand): Tensor {
  const bt = toTensor(b, a);
  const shape = checkPair("equal", a, bt);
  return new Tensor(
    a.backend.binary("eq", a.storage, a.shape, bt.storage, bt.shape, shape),
    shape,
    a.backend,
  );
}

/** 1 where a ≥ b: greater or equal, which never overlap (so NaN stays 0). */
export function greaterEqual(a: Tensor, b: Operand): Tensor {
  return noGrad(() => add(greater(a, b), equal(a, b)));
}

/** 1 where a ≤ b. */
export function lessEqual(a: Tensor, b: Operand): Tensor {
  return noGrad(() => add(less(a, b), equal(a, b)));
}

/** −1, 0 or 1 by the sign of x, and NaN for NaN (NumPy's sign: a NaN must not vanish). */
export function sign(x: Tensor): Tensor {
  return new Tensor(x.backend.unary("sign", x.storage), x.shape, x.backend);
}
