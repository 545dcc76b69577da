/** Planted wrong answer: the columns stacked along the first axis, which lays J out transposed. */
import { jvp, stack, type Tensor, tensor, vjp } from "../../../src/index.ts";

function basis(like: Tensor, i: number): Tensor {
  const values = new Float64Array(like.size);
  values[i] = 1;
  return tensor(values, [...like.shape], { dtype: like.dtype });
}

export function jacobianByRows(f: (x: Tensor) => Tensor, x: Tensor): Tensor {
  const { value, pullback } = vjp(f)(x);
  const rows = Array.from({ length: value.size }, (_, i) => pullback(basis(value, i))[0]);
  return stack(rows, 0).reshape([...value.shape, ...x.shape]);
}

export function jacobianByColumns(f: (x: Tensor) => Tensor, x: Tensor): Tensor {
  const columns = Array.from({ length: x.size }, (_, j) => jvp(f)([x], [basis(x, j)]).tangent);
  return stack(columns, 0).reshape([...columns[0].shape, ...x.shape]);
}
