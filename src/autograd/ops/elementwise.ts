/**
 * Elementwise ops. Each op computes its output through the backend and, right beside it, its
 * vector-Jacobian product: given g = dL/d(out), the gradient dL/d(input), with the math on one line.
 *
 * Binary ops broadcast by NumPy rules; the backward pass sums each gradient back to its input's
 * shape (`sumToShape`), because an input that was repeated along an axis received a contribution
 * from every repetition.
 */
import type { BinaryOp, DType, Shape, UnaryOp } from "../../kernels/backend.ts";
import { broadcastShapes, formatShape, sameShape } from "../../kernels/shape.ts";
import { type Operand, Tensor, toTensor } from "../tensor.ts";

/** Sum `g` over the axes along which an input of `shape` was broadcast, so it has that shape again. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let d = 0; d < g.ndim; d++) {
    if (d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1)) axes.push(d);
  }
  const storage = g.backend.reduce("sum", g.storage, g.shape, axes);
  return new Tensor(storage, shape, g.backend);
}

export function checkPair(op: string, a: Tensor, b: Tensor): number[] {
  if (a.dtype !== b.dtype) {
    throw new Error(
      `${op}: dtypes differ: ${a.dtype} ${formatShape(a.shape)} and ${b.dtype} ${formatShape(b.shape)}; convert one with .to("${a.dtype}")`,
    );
  }
  if (a.backend !== b.backend) {
    throw new Error(`${op}: tensors live on different backends (${a.backend.name} and ${b.backend.name})`);
  }
  const out = broadcastShapes(a.shape, b.shape);
  if (out === null) {
    throw new Error(
      `${op}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} cannot be broadcast together (dimensions must be equal or 1, aligned from the right)`,
    );
  }
  return out;
}

function binaryOp(
  name: BinaryOp,
  a: Tensor,
  b: Tensor,
  backwardFn: (g: Tensor, needs: readonly boolean[], out: Tensor) => (Tensor | null)[],
): Tensor {
  const shape = checkPair(name, a, b);
  const storage = a.backend.binary(name, a.storage, a.shape, b.storage, b.shape, shape);
  const out: Tensor = Tensor.fromOp(name, storage, shape, [a, b], (g, needs) => {
    const [ga, gb] = backwardFn(g, needs, out);
    return [ga && sumToShape(ga, a.shape), gb && sumToShape(gb, b.shape)];
  });
  return out;
}

function unaryOp(name: UnaryOp, x: Tensor, backwardFn: (g: Tensor, out: Tensor) => Tensor): Tensor {
  const out: Tensor = Tensor.fromOp(name, x.backend.unary(name, x.storage), x.shape, [x], (g) => [
    backwardFn(g, out),
  ]);
  return out;
}

// d(a+b)/da = 1, d(a+b)/db = 1
export function add(a: Tensor, b: Operand): Tensor {
  return binaryOp("add", a, toTensor(b, a), (g, needs) => [needs[0] ? g : null, needs[1] ? g : null]);
}

// d(a-b)/da = 1, d(a-b)/db = -1
export function sub(a: Tensor, b: Operand): Tensor {
  return binaryOp("sub", a, toTensor(b, a), (g, needs) => [needs[0] ? g : null, needs[1] ? neg(g) : null]);
}

// d(a·b)/da = b, d(a·b)/db = a
export function mul(a: Tensor, b: Operand): Tensor {
  const bt = toTensor(b, a);
  return binaryOp("mul", a, bt, (g, needs) => [needs[0] ? mul(g, bt) : null, needs[1] ? mul(g, a) : null]);
}

// d(a/b)/da = 1/b, d(a/b)/db = -a/b² = -out/b
export function div(a: Tensor, b: Operand): Tensor {
  const bt = toTensor(b, a);
  return binaryOp("div", a, bt, (g, needs, out) => [
    needs[0] ? div(g, bt) : null,
    needs[1] ? neg(mul(g, div(out, bt))) : null,
  ]);
}

// d max(a,b)/da = 1 where a > b, ½ where a = b (ties share, as PyTorch), else 0; likewise for b
export function maximum(a: Tensor, b: Operand): Tensor {
  const bt = toTensor(b, a);
  return binaryOp("max", a, bt, (g, needs) => {
    const [wa, wb] = tieSplit(a, bt, "max");
    return [needs[0] ? mul(g, wa) : null, needs[1] ? mul(g, wb) : null];
  });
}

// d min(a,b)/da = 1 where a < b, ½ where a = b, else 0; likewise for b
export function minimum(a: Tensor, b: Operand): Tensor {
  const bt = toTensor(b, a);
  return binaryOp("min", a, bt, (g, needs) => {
    const [wa, wb] = tieSplit(a, bt, "min");
    return [needs[0] ? mul(g, wa) : null, needs[1] ? mul(g, wb) : null];
  });
}

/** Weights (wa, wb) saying how much of the gradient of max/min(a, b) goes to each side. */
function tieSplit(a: Tensor, b: Tensor, op: "max" | "min"): [Tensor, Tensor] {
  const winsA = step(op === "max" ? sub(a, b) : sub(b, a));
  const tie = mul(
    new Tensor(
      a.backend.binary("eq", a.storage, a.shape, b.storage, b.shape, broadcastShapes(a.shape, b.shape)!),
      broadcastShapes(a.shape, b.shape)!,
      a.backend,
    ),
    0.5,
  );
  const wa = add(winsA, tie);
  return [wa, sub(toTensor(1, wa), wa)];
}

// d(-x)/dx = -1
export function neg(x: Tensor): Tensor {
  return unaryOp("neg", x, (g) => neg(g));
}

// d(xᵖ)/dx = p·xᵖ⁻¹ (the exponent is a constant number); for p = 0 it is 0, not 0·x⁻¹ = NaN at x = 0
export function pow(x: Tensor, p: number): Tensor {
  const pt = toTensor(p, x);
  const shape = checkPair("pow", x, pt);
  const storage = x.backend.binary("pow", x.storage, x.shape, pt.storage, pt.shape, shape);
  return Tensor.fromOp("pow", storage, shape, [x], (g) => [
    p === 0
      ? new Tensor(x.backend.fill(x.size, 0, x.dtype), x.shape, x.backend)
      : mul(g, mul(pow(x, p - 1), p)),
  ]);
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

// d relu(x)/dx = 1 if x > 0 else 0 (at the kink x = 0 we take 0, as PyTorch does)
export function relu(x: Tensor): Tensor {
  return unaryOp("relu", x, (g) => mul(g, step(x)));
}

/** 1 where x > 0, else 0; not differentiable (its derivative is 0 almost everywhere), so not tracked. */
export function step(x: Tensor): Tensor {
  return new Tensor(x.backend.unary("step", x.storage), x.shape, x.backend);
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
  return Tensor.fromOp(`cast:${dtype}`, x.backend.cast(x.storage, dtype), x.shape, [x], (g) => [
    cast(g, x.dtype),
  ]);
}
