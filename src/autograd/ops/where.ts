/**
 * where(cond, a, b): a where cond is non-zero, b elsewhere (NumPy's where, PyTorch's torch.where),
 * all three broadcast together. The condition is a mask, a constant of the graph (see compare.ts).
 *
 * It is a select, not arithmetic: cond·a + (1 − cond)·b would turn an Infinity on the side not taken
 * into 0·Inf = NaN. Its backward selects too, so the gradient is exactly g on the chosen side.
 */
import { broadcastShapes, formatShape } from "../../kernels/shape.ts";
import { applyOp } from "../op.ts";
import { type Operand, Tensor, toTensor } from "../tensor.ts";
import { checkPair } from "./elementwise.ts";
import { sumToShape } from "./shape.ts";

// d where(c, a, b)/da = g where c, else 0;  d where(c, a, b)/db = g where not c, else 0
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const like = a instanceof Tensor ? a : b instanceof Tensor ? b : cond;
  const at = toTensor(a, like);
  const bt = toTensor(b, like);
  const abShape = checkPair("where", at, bt);
  const shape = broadcastShapes(cond.shape, abShape);
  if (cond.backend !== at.backend) {
    throw new Error(`where: the condition lives on ${cond.backend.name}, the values on ${at.backend.name}`);
  }
  if (shape === null) {
    throw new Error(
      `where: condition ${formatShape(cond.shape)} and values ${formatShape(at.shape)}, ${formatShape(bt.shape)} cannot be broadcast together`,
    );
  }
  // The condition is an input without a gradient, so that changing it before backward is caught.
  return applyOp(
    "where",
    [cond, at, bt],
    () =>
      new Tensor(
        at.backend.where(cond.storage, cond.shape, at.storage, at.shape, bt.storage, bt.shape, shape),
        shape,
        at.backend,
      ),
    (g) => [
      null,
      () => sumToShape(where(cond, g, 0), at.shape),
      () => sumToShape(where(cond, 0, g), bt.shape),
    ],
  );
}
