/**
 * Elementwise ops. Each op computes its output through the backend and, right beside it, its
 * vector-Jacobian product: given g = dL/d(out), the gradient dL/d(input), with the math on one line.
 *
 * Binary ops broadcast by NumPy rules; the backward pass sums each gradient back to its input's
 * shape (`sumToShape`), because an input that was repeated along an axis received a contribution
 * from every repetition.
 */
import type { BinaryOp, DType, UnaryOp } from "../../kernels/backend.ts";
import { broadcastShapes } from "../../kernels/shape.ts";
import { zerosLike } from "../create.ts";
import { applyOp, type Gradients } from "../op.ts";
import { describeValue, expectTensor, type Operand, shapeOf, Tensor, toTensor } from "../tensor.ts";
import { equal, greater, notEqual } from "./compare.ts";
import { sumToShape } from "./shape.ts";

export function checkPair(op: string, a: Tensor, b: Tensor): number[] {
  if (a.dtype !== b.dtype) {
    throw new Error(
      `${op}: dtypes differ: ${a.dtype} ${shapeOf(a)} and ${b.dtype} ${shapeOf(b)}; convert one with .to("${a.dtype}")`,
    );
  }
  if (a.backend !== b.backend) {
    throw new Error(`${op}: tensors live on different backends (${a.backend.name} and ${b.backend.name})`);
  }
  const out = broadcastShapes(a.shape, b.shape);
  if (out === null) {
    throw new Error(
      `${op}: shapes ${shapeOf(a)} and ${shapeOf(b)} cannot be broadcast together (dimensions must be equal or 1, aligned from the right)`,
    );
  }
  return out;
}

/**
 * a op b through the backend's broadcasting kernel `kernel`, recorded as the op `name`; each
 * gradient is summed back to its input's shape.
 */
function binaryOp(
  name: string,
  kernel: BinaryOp,
  a: Tensor,
  b: Tensor,
  vjp: (g: Tensor, out: Tensor) => [() => Tensor, () => Tensor],
): Tensor {
  const shape = checkPair(name, a, b);
  return applyOp(
    name,
    [a, b],
    () =>
      new Tensor(a.backend.binary(kernel, a.storage, a.shape, b.storage, b.shape, shape), shape, a.backend),
    (g, out) => {
      const [da, db] = vjp(g, out);
      return [() => sumToShape(da(), a.shape), () => sumToShape(db(), b.shape)];
    },
  );
}

function unaryOp(name: UnaryOp, x: Tensor, vjp: (g: Tensor, out: Tensor) => Tensor): Tensor {
  expectTensor(name, "the input", x);
  return applyOp(
    name,
    [x],
    () => new Tensor(x.backend.unary(name, x.storage), x.shape, x.backend),
    (g, out): Gradients => [() => vjp(g, out)],
  );
}

// d(a+b)/da = 1, d(a+b)/db = 1
export function add(a: Tensor, b: Operand): Tensor {
  return binaryOp("add", "add", a, toTensor(b, a, "add"), (g) => [() => g, () => g]);
}

// d(a-b)/da = 1, d(a-b)/db = -1
export function sub(a: Tensor, b: Operand): Tensor {
  return binaryOp("sub", "sub", a, toTensor(b, a, "sub"), (g) => [() => g, () => neg(g)]);
}

// d(a·b)/da = b, d(a·b)/db = a
export function mul(a: Tensor, b: Operand): Tensor {
  const bt = toTensor(b, a, "mul");
  return binaryOp("mul", "mul", a, bt, (g) => [() => mul(g, bt), () => mul(g, a)]);
}

// d(a/b)/da = 1/b, d(a/b)/db = -a/b² = -out/b
export function div(a: Tensor, b: Operand): Tensor {
  const bt = toTensor(b, a, "div");
  return binaryOp("div", "div", a, bt, (g, out) => [() => div(g, bt), () => neg(mul(g, div(out, bt)))]);
}

// d max(a,b)/da = 1 where a > b, ½ where a = b (ties share, as PyTorch), else 0; likewise for b
export function maximum(a: Tensor, b: Operand): Tensor {
  const bt = toTensor(b, a, "maximum");
  return binaryOp("maximum", "max", a, bt, (g) => [() => mul(g, share(a, bt)), () => mul(g, share(bt, a))]);
}

// d min(a,b)/da = 1 where a < b, ½ where a = b, else 0; likewise for b
export function minimum(a: Tensor, b: Operand): Tensor {
  const bt = toTensor(b, a, "minimum");
  return binaryOp("minimum", "min", a, bt, (g) => [() => mul(g, share(bt, a)), () => mul(g, share(a, bt))]);
}

/**
 * The share of max(a, b)'s gradient that goes to a: 0 where a < b, ½ where a = b, else 1 (also
 * where either is NaN, as in PyTorch, so a NaN reaches both sides' gradients).
 */
function share(a: Tensor, b: Tensor): Tensor {
  return sub(toTensor(1, a), add(greater(b, a), mul(equal(a, b), 0.5)));
}

// d(-x)/dx = -1
export function neg(x: Tensor): Tensor {
  return unaryOp("neg", x, (g) => neg(g));
}

// d(xᵖ)/dx = p·xᵖ⁻¹ (the exponent is a constant number); for p = 0 it is 0, not 0·x⁻¹ = NaN at x = 0
export function pow(x: Tensor, p: number): Tensor {
  // The exponent is a constant: a tensor from JavaScript would get no gradient and give x NaN ones.
  if (typeof p !== "number")
    throw new Error(
      `pow: the exponent must be a number, got ${describeValue(p)}; for a tensor exponent write exp(log(x).mul(p))`,
    );
  const pt = toTensor(p, x, "pow");
  const shape = checkPair("pow", x, pt);
  return applyOp(
    "pow",
    [x],
    () =>
      new Tensor(x.backend.binary("pow", x.storage, x.shape, pt.storage, pt.shape, shape), shape, x.backend),
    (g) => [() => (p === 0 ? zerosLike(x) : mul(g, mul(pow(x, p - 1), p)))],
  );
}

// d(eˣ)/dx = eˣ = out
export function exp(x: Tensor): Tensor {
  return unaryOp("exp", x, (g, out) => mul(g, out));
}

// d(ln x)/dx = 1/x
export function log(x: Tensor): Tensor {
  return unaryOp("log", x, (g) => div(g, x));
}

// d(√x)/dx = 1/(2√x) = 1/(2·out)
export function sqrt(x: Tensor): Tensor {
  return unaryOp("sqrt", x, (g, out) => div(g, mul(out, 2)));
}

// d relu(x)/dx = 1 where relu(x) ≠ 0, else 0: 0 at the kink x = 0 and 1 at NaN, as PyTorch does
export function relu(x: Tensor): Tensor {
  return unaryOp("relu", x, (g, out) => mul(g, notEqual(out, toTensor(0, out))));
}

// d sigmoid(x)/dx = s(1-s), with s = out saved from the forward pass
export function sigmoid(x: Tensor): Tensor {
  return unaryOp("sigmoid", x, (g, s) => mul(g, mul(s, sub(toTensor(1, s), s))));
}

// d tanh(x)/dx = 1 - tanh²(x) = 1 - out²
export function tanh(x: Tensor): Tensor {
  return unaryOp("tanh", x, (g, t) => mul(g, sub(toTensor(1, t), mul(t, t))));
}

// d softplus(x)/dx = d ln(1+eˣ)/dx = sigmoid(x)
export function softplus(x: Tensor): Tensor {
  return unaryOp("softplus", x, (g) => mul(g, sigmoid(x)));
}

// d cast(x)/dx = 1, carried back in x's dtype
export function cast(x: Tensor, dtype: DType): Tensor {
  if (dtype !== "float32" && dtype !== "float64")
    throw new Error(`cast: dtype must be "float32" or "float64", got ${JSON.stringify(dtype)}`);
  return applyOp(
    `cast:${dtype}`,
    [x],
    () => new Tensor(x.backend.cast(x.storage, dtype), x.shape, x.backend),
    (g) => [() => cast(g, x.dtype)],
  );
}
