/**
 * Tensor: an n-dimensional, row-major array of float32 or float64 numbers held by a backend,
 * plus what reverse-mode autodiff needs: the op that made it, its inputs, and a function that
 * turns the gradient of its output into gradients of its inputs (the vector-Jacobian product).
 *
 * Tensors are immutable values: every op returns a new tensor with storage of its own. The one
 * exception is `assign`, which an optimizer uses to replace a parameter's values in place; it bumps
 * the tensor's `version`, so a backward pass that would read the replaced values throws instead.
 * Ops are written with `applyOp` (op.ts); their methods here make models read like PyTorch.
 */
import type { Backend, DType, Shape, Storage, TypedArray } from "../kernels/backend.ts";
import { getBackend } from "../kernels/registry.ts";
import { formatShape, sizeOf } from "../kernels/shape.ts";
import { type BackwardOptions, backward } from "./engine.ts";
import { formatTensor } from "./format.ts";
import { isGradEnabled } from "./grad-mode.ts";
import type { Vjp } from "./op.ts";
// The one import cycle of autograd, on purpose: the ops make Tensors, and Tensor's methods
// (x.add(y), x.matmul(w)) call the ops. ES modules resolve it because both sides only use each
// other inside functions, never while a module is being evaluated.
import * as bmm from "./ops/batched-matmul.ts";
import * as compare from "./ops/compare.ts";
import * as ew from "./ops/elementwise.ts";
import * as ix from "./ops/indexing.ts";
import * as mm from "./ops/matmul.ts";
import * as pw from "./ops/piecewise.ts";
import * as red from "./ops/reduce.ts";
import * as sh from "./ops/shape.ts";
import * as sm from "./ops/softmax.ts";
import { recordInScope } from "./scope.ts";

export type Operand = Tensor | number;

const NONE: readonly never[] = Object.freeze([]);

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly backend: Backend;
  /** The backend's handle to the values, for the tensor's whole life (assign writes into it). Only backends look inside it. */
  readonly storage: Storage;
  /** Whether gradients flow to this tensor. Set it on the leaves you want `.grad` for. */
  requiresGrad: boolean;
  /** d(loss)/d(this), accumulated by `backward()` into leaves (and tensors that `retainGrad()`). */
  grad: Tensor | null = null;
  // The history below is written once, by applyOp (recordOp), when an op makes this tensor.
  /** The op that made this tensor ("leaf" for tensors made from data). */
  readonly op: string = "leaf";
  /** The op's inputs: the edges of the graph, followed backwards by `backward()`. */
  readonly inputs: readonly Tensor[] = NONE;
  /** The op's vector-Jacobian product; null for leaves and for tensors made under noGrad. */
  readonly backwardFn: Vjp | null = null;
  /** The `version` of each input when the op read it: backward checks that none has changed since. */
  readonly savedVersions: readonly number[] = NONE;
  /** How many times `assign` has changed the values in place. */
  version = 0;
  /** Keep `.grad` on this non-leaf too (PyTorch's retain_grad). */
  retainsGrad = false;
  /** An optional label, shown by toDot() and in the errors that name this tensor. */
  name: string | undefined;
  /** Set by dispose() (and releaseGraph): the values are gone, and using them is an error. */
  private freed = false;

  constructor(storage: Storage, shape: Shape, backend: Backend, options: { requiresGrad?: boolean } = {}) {
    if (storage.size !== sizeOf(shape)) {
      throw new Error(
        `Tensor: shape ${formatShape(shape)} holds ${sizeOf(shape)} elements but the data has ${storage.size}`,
      );
    }
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = storage.dtype;
    this.backend = backend;
    this.requiresGrad = options.requiresGrad ?? false;
    recordInScope(this);
  }

  get size(): number {
    return this.storage.size;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** A leaf has no op behind it: it is data or a parameter. */
  get isLeaf(): boolean {
    return this.backwardFn === null;
  }

  /** Whether dispose() (or releaseGraph) has freed the values. */
  get disposed(): boolean {
    return this.freed;
  }

  /** Throw, naming `caller`, if the values were freed: they cannot be read or computed with. */
  checkAlive(caller: string): void {
    if (this.freed)
      throw new Error(
        `${caller}: ${describe(this)} was used after dispose() or releaseGraph() freed it; compute it again`,
      );
  }

  /** The values, once the backend has them ready (on asynchronous backends, after pending kernels). */
  data(): Promise<TypedArray> {
    this.checkAlive("data");
    return this.backend.read(this.storage);
  }

  /** The values now. Throws on a backend whose results arrive asynchronously: use `await data()`. */
  dataSync(): TypedArray {
    this.checkAlive("dataSync");
    return this.backend.readSync(this.storage);
  }

  /** The value of a one-element tensor as a number. */
  item(): number {
    if (this.size !== 1)
      throw new Error(`item: tensor of shape ${formatShape(this.shape)} has ${this.size} elements, not 1`);
    return this.dataSync()[0];
  }

  /** The values as nested arrays, for printing and tests. */
  toArray(): NestedArray {
    return nest(this.dataSync(), this.shape, 0, 0);
  }

  /** `tensor([[1, 2], [3, 4]], shape=[2, 2], dtype=float32, backend=cpu)`, elided when large. */
  toString(): string {
    return formatTensor(this);
  }

  /** What console.log shows in Node (the symbol util.inspect looks for; no import of node:util). */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return formatTensor(this);
  }

  /** The same values, cut off from the graph: no gradient flows back through the result. */
  detach(): Tensor {
    this.checkAlive("detach");
    return new Tensor(this.backend.copy(this.storage), this.shape, this.backend);
  }

  /** A copy in another dtype (gradients flow back, cast to the input's dtype). */
  to(dtype: DType): Tensor {
    return ew.cast(this, dtype);
  }

  /**
   * Backpropagate from this tensor: adds d(this)/d(leaf) into every leaf's `.grad`.
   * Without an argument this must be a one-element tensor (a loss). Calling it twice adds twice:
   * clear gradients with `zeroGrad()` (or an optimizer's zeroGrad) between steps.
   * `backward({ createGraph: true })` (or `backward(grad, { createGraph: true })`) records the
   * pass itself, so the gradients can be differentiated again.
   */
  backward(grad?: Tensor | BackwardOptions, options?: BackwardOptions): void {
    if (grad instanceof Tensor || grad === undefined) backward(this, grad, options);
    else if (typeof grad === "object" && grad !== null && !Array.isArray(grad))
      backward(this, undefined, grad);
    // From JavaScript, y.backward(2) would otherwise be taken for options and seeded with 1.
    else
      throw new Error(
        `backward: the gradient must be a Tensor shaped like the output, got ${describeValue(grad)}`,
      );
  }

  /** Forget the accumulated gradient. */
  zeroGrad(): void {
    this.grad = null;
  }

  /** Keep `.grad` for this intermediate tensor too. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /**
   * Replace this tensor's values in place (the optimizer's update): it keeps its storage, so a
   * compiled step that holds it sees the new values. It must have the same shape and dtype. Not
   * recorded in any graph: a tensor that requires grad can only be assigned under noGrad, and any
   * op that read the old values refuses to backward.
   */
  assign(values: Tensor): void {
    if (this.requiresGrad && isGradEnabled()) {
      throw new Error(
        `assign: ${describe(this)} requires grad, and an in-place write would not be recorded in the graph; wrap the update in noGrad(() => …), as optimizers do`,
      );
    }
    if (values.dtype !== this.dtype || values.size !== this.size || values.backend !== this.backend) {
      throw new Error(
        `assign: cannot put ${values.dtype} ${formatShape(values.shape)} values on ${values.backend.name} into a ${this.dtype} ${formatShape(this.shape)} tensor on ${this.backend.name}`,
      );
    }
    this.checkAlive("assign");
    values.checkAlive("assign");
    this.backend.write(this.storage, values.storage);
    this.version++;
  }

  /** Free the storage now instead of waiting for the garbage collector (matters for GPU memory). */
  dispose(): void {
    this.freed = true;
    this.backend.dispose(this.storage);
  }

  // Ops as methods, so that models read like PyTorch: x.matmul(w).add(b).relu()
  add(other: Operand): Tensor {
    return ew.add(this, other);
  }
  sub(other: Operand): Tensor {
    return ew.sub(this, other);
  }
  mul(other: Operand): Tensor {
    return ew.mul(this, other);
  }
  div(other: Operand): Tensor {
    return ew.div(this, other);
  }
  neg(): Tensor {
    return ew.neg(this);
  }
  pow(exponent: number): Tensor {
    return ew.pow(this, exponent);
  }
  exp(): Tensor {
    return ew.exp(this);
  }
  log(): Tensor {
    return ew.log(this);
  }
  sqrt(): Tensor {
    return ew.sqrt(this);
  }
  relu(): Tensor {
    return ew.relu(this);
  }
  sigmoid(): Tensor {
    return ew.sigmoid(this);
  }
  tanh(): Tensor {
    return ew.tanh(this);
  }
  softplus(): Tensor {
    return ew.softplus(this);
  }
  matmul(other: Tensor, options?: mm.MatmulOptions): Tensor {
    return mm.matmul(this, other, options);
  }
  sum(axes?: number | readonly number[], keepdims = false): Tensor {
    return red.sum(this, axes, keepdims);
  }
  mean(axes?: number | readonly number[], keepdims = false): Tensor {
    return red.mean(this, axes, keepdims);
  }
  max(axes?: number | readonly number[], keepdims = false): Tensor {
    return red.max(this, axes, keepdims);
  }
  logsumexp(axis: number, keepdims = false): Tensor {
    return red.logsumexp(this, axis, keepdims);
  }
  reshape(shape: Shape): Tensor {
    return sh.reshape(this, shape);
  }
  transpose(perm?: readonly number[]): Tensor {
    return sh.transpose(this, perm);
  }
  broadcastTo(shape: Shape): Tensor {
    return sh.broadcastTo(this, shape);
  }
  gatherRows(indices: Int32Array | readonly number[]): Tensor {
    return sh.gatherRows(this, indices);
  }
  sliceRows(start: number, end: number): Tensor {
    return sh.sliceRows(this, start, end);
  }

  // Indexing, softmax, piecewise, comparison and batched ops (ops/indexing, softmax, piecewise, constants, batched-matmul)
  indexSelect(axis: number, indices: ArrayLike<number>): Tensor {
    return ix.indexSelect(this, axis, indices);
  }
  slice(axis: number, start?: number, end?: number, step?: number): Tensor {
    return ix.slice(this, axis, start, end, step);
  }
  softmax(axis?: number): Tensor {
    return sm.softmax(this, axis);
  }
  logSoftmax(axis?: number): Tensor {
    return sm.logSoftmax(this, axis);
  }
  abs(): Tensor {
    return pw.abs(this);
  }
  clamp(min?: number, max?: number): Tensor {
    return pw.clamp(this, min, max);
  }
  greater(other: Operand): Tensor {
    return compare.greater(this, other);
  }
  less(other: Operand): Tensor {
    return compare.less(this, other);
  }
  equal(other: Operand): Tensor {
    return compare.equal(this, other);
  }
  greaterEqual(other: Operand): Tensor {
    return compare.greaterEqual(this, other);
  }
  lessEqual(other: Operand): Tensor {
    return compare.lessEqual(this, other);
  }
  batchedMatmul(other: Tensor, options?: mm.MatmulOptions): Tensor {
    return bmm.batchedMatmul(this, other, options);
  }
}

export type NestedArray = number | NestedArray[];

function nest(data: TypedArray, shape: Shape, dim: number, offset: number): NestedArray {
  if (dim === shape.length) return data[offset];
  const stride = sizeOf(shape.slice(dim + 1));
  return Array.from({ length: shape[dim] }, (_, i) => nest(data, shape, dim + 1, offset + i * stride));
}

/**
 * Make `t`, just computed by op `op`, that op's output: applyOp's last step, and the only place a
 * tensor's history is written. With `inputs` null no gradient flows through it (noGrad, or no
 * input requires grad) and only the op's name is kept.
 */
export function recordOp(t: Tensor, op: string, inputs: readonly Tensor[] | null, vjp: Vjp): void {
  const history = t as { -readonly [K in "op" | "inputs" | "backwardFn" | "savedVersions"]: Tensor[K] };
  history.op = op;
  if (inputs === null) return;
  t.requiresGrad = true;
  history.inputs = inputs;
  history.backwardFn = vjp;
  history.savedVersions = inputs.map((x) => x.version);
}

/** "the float32 [2, 3] tensor 'weight' (a leaf)": how messages name a tensor. */
export function describe(t: Tensor): string {
  const name = t.name === undefined ? "" : ` '${t.name}'`;
  const origin = t.isLeaf ? "a leaf" : `made by ${t.op}`;
  return `the ${t.dtype} ${formatShape(t.shape)} tensor${name} (${origin})`;
}

/** "[2, 3]", or "'μ' [2, 3]" for a named tensor: how shape errors show an operand. */
export function shapeOf(t: Tensor): string {
  return t.name === undefined ? formatShape(t.shape) : `'${t.name}' ${formatShape(t.shape)}`;
}

/** A tensor of shape [] holding `value`, on the same backend and in the same dtype as `like`. */
export function scalarLike(value: number, like: Tensor): Tensor {
  return new Tensor(like.backend.fill(1, value, like.dtype), [], like.backend);
}

/**
 * Lift a number operand to a tensor next to `like`, checking at run time what the types promise
 * (JavaScript callers have none): `like` a Tensor, `x` a Tensor or a number. `op` names the caller.
 */
export function toTensor(x: Operand, like: Tensor, op = "operand"): Tensor {
  expectTensor(op, "the first operand", like);
  if (typeof x === "number") return scalarLike(x, like);
  expectTensor(op, "the second operand", x);
  return x;
}

/** Throw, naming `caller` and `what`, unless `x` is a Tensor (for callers from JavaScript). */
export function expectTensor(caller: string, what: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${caller}: ${what} is ${describeValue(x)}, not a Tensor`);
}

/** What a value is, in words: "a number (3)", "an array", "null", "a Tensor". */
export function describeValue(x: unknown): string {
  if (x instanceof Tensor) return "a Tensor";
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return "an array";
  if (typeof x === "number" || typeof x === "boolean") return `a ${typeof x} (${x})`;
  if (typeof x === "string") return `a string (${JSON.stringify(x.length > 20 ? `${x.slice(0, 20)}…` : x)})`;
  return typeof x === "object" ? `a ${x.constructor?.name ?? "object"}` : `a ${typeof x}`;
}

/** A leaf on the current backend from a typed array and a shape (dtype follows the array). */
export function fromTypedArray(
  data: TypedArray,
  shape: Shape,
  options: { requiresGrad?: boolean } = {},
): Tensor {
  if (!(data instanceof Float32Array || data instanceof Float64Array))
    throw new Error(`tensor: the data must be a Float32Array or a Float64Array, got ${describeValue(data)}`);
  // Checked before the size: [-2, -3] or [1.5, 4] would otherwise pass as 6 elements.
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`tensor: shape ${formatShape(shape)} must hold non-negative integers`);
  }
  if (data.length !== sizeOf(shape)) {
    throw new Error(
      `tensor: shape ${formatShape(shape)} needs ${sizeOf(shape)} values but the data has ${data.length}`,
    );
  }
  const backend = getBackend();
  return new Tensor(backend.fromArray(data), shape, backend, options);
}
