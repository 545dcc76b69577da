/**
 * What a state dict may put into a model or an optimizer: a Tensor of the tensor's own shape, in
 * its dtype or a narrower one (float32 into float64 loses nothing). float64 into float32 is
 * refused: it may round or overflow (1e300 becomes Infinity), so the caller converts knowingly.
 */
import { Tensor } from "../autograd/tensor.ts";
import { formatShape, sameShape } from "../kernels/shape.ts";

/** Throw, naming `who` and `name`, unless `value` can be loaded into `target`. */
export function checkLoadable(
  who: string,
  name: string,
  value: unknown,
  target: Tensor,
): asserts value is Tensor {
  if (!(value instanceof Tensor)) {
    const what = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    throw new Error(`${who}: ${name} is ${what} in the state, not a Tensor`);
  }
  if (!sameShape(value.shape, target.shape)) {
    throw new Error(
      `${who}: ${name} has shape ${formatShape(value.shape)} in the state but ${formatShape(target.shape)} in the model`,
    );
  }
  if (value.dtype === "float64" && target.dtype === "float32") {
    throw new Error(
      `${who}: ${name} is float64 in the state but float32 here, and converting may round or overflow; convert it first with .to("float32") if that is meant`,
    );
  }
}
